//! The demo's player: the gRPC clients it plays through, its seeded random source,
//! deterministic request ids, the log positions its commands reached, and its progress.

use std::collections::BTreeMap;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use maillage_proto::v1::engagement_client::EngagementClient;
use maillage_proto::v1::governance_client::GovernanceClient;
use maillage_proto::v1::stakeholders_client::StakeholdersClient;
use maillage_proto::v1::CommandReply;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::cli::client::{explain, Authed, SeenPositions};

/// Plays the demo's commands, one at a time, in a fixed order.
pub struct Player {
    /// Client of the stakeholders service.
    pub stakeholders: StakeholdersClient<Authed>,
    /// Client of the engagement service.
    pub engagement: EngagementClient<Authed>,
    /// Engagement as the collectivité's designated officer, once designated.
    pub officer: Option<EngagementClient<Authed>>,
    /// Client of the governance service.
    pub governance: GovernanceClient<Authed>,
    /// Every random choice of the story comes from here.
    pub rng: ChaCha8Rng,
    /// Multiplies the number of survey responses and extra contacts.
    pub scale: f64,
    seed: u64,
    sequence: u64,
    positions: BTreeMap<&'static str, u64>,
    /// The same positions, sent with every later command (`maillage-after`).
    seen: SeenPositions,
    progress: ProgressBar,
}

impl Player {
    /// A player over `channel` (whose calls carry `seen`), for `seed`;
    /// progress on stderr when it is a terminal.
    pub fn new(channel: Authed, seen: SeenPositions, seed: u64, scale: f64) -> Self {
        let progress = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        progress.set_style(
            ProgressStyle::with_template("{spinner} {msg} — {pos} commandes ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        Self {
            stakeholders: StakeholdersClient::new(channel.clone()),
            engagement: EngagementClient::new(channel.clone()),
            officer: None,
            governance: GovernanceClient::new(channel),
            rng: ChaCha8Rng::seed_from_u64(seed),
            scale,
            seed,
            sequence: 0,
            positions: BTreeMap::new(),
            seen,
            progress,
        }
    }

    /// The next request id: the seed and the command's rank, so that the same seed
    /// sends the same ids (and replaying it against the same platform changes nothing).
    pub fn request_id(&mut self) -> String {
        self.sequence += 1;
        format!("demo-{}-{:05}", self.seed, self.sequence)
    }

    /// Says which part of the story is being played.
    pub fn phase(&self, message: &'static str) {
        self.progress.set_message(message);
    }

    /// Notes a command's reply (its log position) and returns the aggregate id.
    pub fn done(&mut self, context: &'static str, reply: CommandReply) -> String {
        let position = self.positions.entry(context).or_default();
        *position = (*position).max(reply.position);
        self.seen.note(context, reply.position);
        self.progress.inc(1);
        reply.id
    }

    /// Unwraps a command's answer, or says which step of the demo failed.
    pub fn answer<T>(
        &mut self,
        step: &str,
        result: Result<tonic::Response<T>, tonic::Status>,
    ) -> anyhow::Result<T> {
        result
            .map(tonic::Response::into_inner)
            .map_err(explain)
            .with_context(|| format!("démo : échec de l'étape « {step} »"))
    }

    /// The highest log position each context reached.
    pub fn positions(&self) -> &BTreeMap<&'static str, u64> {
        &self.positions
    }

    /// Commands sent so far.
    pub fn commands(&self) -> u64 {
        self.sequence
    }

    /// Stops showing progress.
    pub fn finish(&self) {
        self.progress.finish_and_clear();
    }

    /// `base` scaled by [`Player::scale`], at least `min`.
    pub fn scaled(&self, base: usize, min: usize) -> usize {
        ((base as f64 * self.scale).round() as usize).max(min)
    }
}
