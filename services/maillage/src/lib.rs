//! Maillage as one product: every service in one process on one port
//! ([`platform::serve`]) with its web console ([`console`]), the first-start bootstrap, the Admin service, the
//! admin CLI that talks to a running platform over gRPC, the demo territory
//! ([`demo`]), the contact-list reader of `maillage import` ([`import`]) and
//! the HTML report ([`report`]).

pub mod admin;
pub mod bootstrap;
pub mod cli;
pub mod console;
pub mod demo;
pub mod import;
pub mod platform;
pub mod report;

/// The command services' logs, in the order reports list them.
pub const CONTEXTS: [&str; 3] = [
    maillage_stakeholders::CONTEXT,
    maillage_engagement::CONTEXT,
    maillage_governance::CONTEXT,
];
