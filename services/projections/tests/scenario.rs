//! The projections service end to end in one process: real event stores (the
//! three contexts' logs, on a fixed clock) fed through the direct feed into a
//! real sled read-model database, queried over real gRPC on 127.0.0.1:0 with a
//! tokens file. Expected figures are computed by hand in the comments from the
//! scenario of `common` (CC du Val d'Argent, 4 communes, 9,000 inhabitants).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;

use std::sync::Arc;

use common::*;
use maillage_eventstore::FixedClock;
use maillage_projections::time::{system_time, timestamp};
use maillage_projections::{local_sources, Projections};
use maillage_proto::v1 as pb;
use maillage_proto::v1::projections_client::ProjectionsClient;
use maillage_service_kit::auth::{Role, TokenStore};
use maillage_service_kit::testing::{Spawned, Tokens};
use maillage_service_kit::Server;
use prost::Message;
use tonic::transport::Channel;
use tonic::{Code, Request};

struct World {
    /// Dropped first, it stops the server.
    _server: Spawned,
    _dir: tempfile::TempDir,
    logs: Logs,
    projections: Projections,
    client: ProjectionsClient<Channel>,
    analyst: String,
    auditor: String,
    facilitator: String,
    admin: String,
}

/// Half the scenario is in the logs before the projection starts, the other
/// half is appended while its consumer runs; returns once everything is applied.
async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let logs = Logs::open(&dir.path().join("logs"));
    let events = scenario();
    let (before, after) = events.split_at(events.len() / 2);
    logs.append(before).await;
    let projections = Projections::open(
        &dir.path().join("projections"),
        local_sources(&logs.pairs()),
    )
    .unwrap();
    projections.spawn_direct(&logs.pairs()).unwrap();
    logs.append(after).await;
    wait_caught_up(&projections, &logs).await;

    let tokens = Tokens::create(dir.path().join("tokens")).unwrap();
    // "Now", for overdue commitments: day 50.
    let clock = Arc::new(FixedClock::new(system_time(day(50))));
    let server = Server::builder(TokenStore::open(tokens.path()).unwrap())
        .add_service(projections.service(clock).into_server());
    let server = Spawned::spawn(move |listener, shutdown| {
        server.serve_with_shutdown(listener, Vec::new(), shutdown)
    })
    .await
    .unwrap();
    let client = ProjectionsClient::new(server.channel().await.unwrap());
    World {
        _dir: dir,
        logs,
        projections,
        client,
        analyst: tokens.of(Role::Analyst).to_string(),
        auditor: tokens.of(Role::Auditor).to_string(),
        facilitator: tokens.of(Role::Facilitator).to_string(),
        admin: tokens.of(Role::Admin).to_string(),
        _server: server,
    }
}

async fn wait_caught_up(projections: &Projections, logs: &Logs) {
    for (context, head) in logs.heads() {
        projections.live().wait_for(context, head).await;
    }
}

fn req<T>(message: T, token: &str) -> Request<T> {
    let mut request = Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    request
}

fn epci() -> Option<pb::TerritoryRef> {
    Some(pb::TerritoryRef {
        level: pb::TerritoryLevel::Epci as i32,
        code: EPCI.into(),
    })
}

fn territory_request(as_of: Option<i64>) -> pb::TerritoryEngagementRequest {
    pb::TerritoryEngagementRequest {
        territory: epci(),
        as_of: as_of.map(timestamp),
        page: None,
    }
}

fn audit_request(as_of: Option<i64>) -> pb::ContactAuditRequest {
    pb::ContactAuditRequest {
        scope: Some(pb::contact_audit_request::Scope::Territory(epci().unwrap())),
        from: None,
        to: None,
        as_of: as_of.map(timestamp),
        page: None,
    }
}

fn counts(list: &[pb::LabelCount]) -> Vec<(&str, u64)> {
    list.iter().map(|c| (c.label.as_str(), c.count)).collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[tokio::test]
async fn territory_engagement_of_the_epci_matches_the_hand_computed_figures() {
    let mut w = world().await;
    let token = w.analyst.clone();
    let report = w
        .client
        .get_territory_engagement(req(territory_request(None), &token))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(report.name, "CC du Val d'Argent");
    assert_eq!(report.communes_total, 4);
    // 1,632 + 775 + 1,742 + 4,851.
    assert_eq!(report.population, 9_000);
    // Located in the EPCI: E1, B2 (Lièpvre), E3 (Rombach), P1 (Sainte-Croix),
    // E2, B1, L1 (Sainte-Marie) = 7; E4 is in Colmar.
    assert_eq!(report.stakeholders_total, 7);
    assert_eq!(
        counts(&report.stakeholders_by_kind),
        [
            ("ORGANISATION_BUSINESS", 2),
            ("ORGANISATION_LOCAL_AUTHORITY", 1),
            ("PERSON_KIND_ELECTED_OFFICIAL", 3),
            ("PERSON_KIND_INHABITANT", 1),
        ]
    );
    // Élus E1, E2, E3; contacted: E1 (I1), E2 (I2; erased later, still a contact).
    assert_eq!((report.elus, report.elus_engaged), (3, 2));
    // Businesses B1, B2; contacted: B1 (I1).
    assert_eq!((report.businesses, report.businesses_engaged), (2, 1));
    // I1 (day 10) and I2 (day 12); I3 is with E4, outside.
    assert_eq!(report.contacts, 2);
    assert_eq!(report.last_contact_at, Some(timestamp(day(12))));
    // A1 held in Sainte-Marie (A2 was cancelled).
    assert_eq!(report.actions_held, 1);
    assert_eq!(
        counts(&report.actions_held_by_kind),
        [("ACTION_KIND_ROUNDTABLE", 1)]
    );
    assert_eq!(
        counts(&report.actions_held_by_theme),
        [
            ("ENGAGEMENT_THEME_BUSINESS_CONVERGENCE", 1),
            ("ENGAGEMENT_THEME_TELEWORK", 1)
        ]
    );
    // Named E1 and B1, anonymous 12: 14 people.
    assert_eq!(report.named_people_reached, 2);
    assert_eq!(report.anonymous_people_reached, 12);
    assert_eq!(report.people_reached, 14);
    // Lièpvre and Rombach (anonymous), B1 of Sainte-Marie.
    assert_eq!(report.survey_responses, 3);
    // L1 and B1, both admitted, both in Sainte-Marie.
    assert_eq!(report.consortium_members, 2);
    // Élus contacted in Lièpvre (E1, maire) and Sainte-Marie (E2): 2 of 4.
    assert_eq!(report.communes_with_elu_contacted, 2);
    assert!(close(report.coverage, 0.5));
    // Sainte-Croix has only P1, registered and never contacted; Rombach had a
    // survey response.
    assert_eq!(report.white_zone_communes, [SAINTE_CROIX]);
    let rates = report.rates_per_1000.unwrap();
    // Contacted stakeholders E1, E2, B1: 3 × 1,000 / 9,000.
    assert!(close(rates.stakeholders_contacted, 3_000.0 / 9_000.0));
    assert!(close(rates.people_reached, 14_000.0 / 9_000.0));
    assert!(close(rates.survey_responses, 3_000.0 / 9_000.0));
    assert!(close(rates.actions_held, 1_000.0 / 9_000.0));
    let codes: Vec<&str> = report.communes.iter().map(|c| c.code.as_str()).collect();
    assert_eq!(codes, [LIEPVRE, ROMBACH, SAINTE_CROIX, SAINTE_MARIE]);
    let sainte_marie = &report.communes[3];
    // E2, B1, L1; contacted E2 and B1; one élu, one business; A1 and its 14.
    assert_eq!(
        (
            sainte_marie.stakeholders,
            sainte_marie.stakeholders_contacted,
            sainte_marie.elus_contacted,
            sainte_marie.businesses_contacted,
            sainte_marie.actions_held,
            sainte_marie.people_reached,
            sainte_marie.survey_responses,
        ),
        (3, 2, 1, 1, 1, 14, 1)
    );

    // Pages of 3 communes: then the last one.
    let mut request = territory_request(None);
    request.page = Some(pb::PageRequest {
        page_size: 3,
        page_token: String::new(),
    });
    let first = w
        .client
        .get_territory_engagement(req(request.clone(), &token))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.communes.len(), 3);
    let next = first.page.unwrap().next_page_token;
    assert!(!next.is_empty());
    request.page = Some(pb::PageRequest {
        page_size: 3,
        page_token: next,
    });
    let second = w
        .client
        .get_territory_engagement(req(request, &token))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(second.communes.len(), 1);
    assert_eq!(second.communes[0].code, SAINTE_MARIE);
    assert!(second.page.unwrap().next_page_token.is_empty());

    // A commune is a territory too: Lièpvre alone.
    let liepvre = w
        .client
        .get_territory_engagement(req(
            pb::TerritoryEngagementRequest {
                territory: Some(pb::TerritoryRef {
                    level: pb::TerritoryLevel::Commune as i32,
                    code: LIEPVRE.into(),
                }),
                as_of: None,
                page: None,
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner();
    // E1 and B2; E1 contacted; coverage 1 of 1.
    assert_eq!((liepvre.stakeholders_total, liepvre.elus_engaged), (2, 1));
    assert!(close(liepvre.coverage, 1.0));
    assert!(liepvre.white_zone_communes.is_empty());
}

#[tokio::test]
async fn the_contact_audit_shows_who_when_how_the_corrections_and_erasure() {
    let mut w = world().await;
    let token = w.auditor.clone();
    let report = w
        .client
        .get_contact_audit(req(audit_request(None), &token))
        .await
        .unwrap()
        .into_inner();
    // Élus and businesses of the EPCI: E1, E2, E3, B1, B2 → I1 (E1, B1), I2 (E2).
    assert_eq!(report.total, 2);
    let (i1, i2) = (&report.rows[0], &report.rows[1]);
    assert_eq!(i1.interaction_id, I1);
    assert_eq!(i1.logged_by, "alice");
    assert_eq!(i1.occurred_at, Some(timestamp(day(10))));
    assert_eq!(i1.logged_at, Some(timestamp(day(10))));
    // Corrected by bob on day 25: phone instead of in person.
    assert_eq!(i1.channel, "INTERACTION_CHANNEL_PHONE");
    assert_eq!(i1.original_channel, "INTERACTION_CHANNEL_IN_PERSON");
    assert_eq!(i1.corrections.len(), 1);
    assert_eq!(i1.corrections[0].corrected_by, "bob");
    assert_eq!(i1.corrections[0].fields, ["channel"]);
    assert_eq!(
        i1.corrections[0].values,
        ["channel=INTERACTION_CHANNEL_PHONE"]
    );
    assert_eq!(i1.subject, "sealed");
    let displays: Vec<&str> = i1.participants.iter().map(|p| p.display.as_str()).collect();
    assert_eq!(displays, [E1, B1]);
    // E2 was erased on day 40: shown as erased, and I2's subject is gone.
    assert_eq!(i2.interaction_id, I2);
    assert_eq!(i2.subject, "erased");
    assert!(i2.participants[0].erased);
    assert_eq!(i2.participants[0].display, "erased");

    // One élu's audit, and a period that excludes I1.
    let e1 = w
        .client
        .get_contact_audit(req(
            pb::ContactAuditRequest {
                scope: Some(pb::contact_audit_request::Scope::StakeholderId(E1.into())),
                ..Default::default()
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(e1.total, 1);
    let mut period = audit_request(None);
    period.from = Some(timestamp(day(11)));
    let later = w
        .client
        .get_contact_audit(req(period, &token))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(later.rows.len(), 1);
    assert_eq!(later.rows[0].interaction_id, I2);

    // The CSV export says "erased" and never an erased person's id.
    let csv = w
        .client
        .export_report(req(
            pb::ExportReportRequest {
                with_provenance: false,
                format: pb::ExportFormat::Csv as i32,
                report: Some(pb::export_report_request::Report::ContactAudit(
                    audit_request(None),
                )),
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(csv.content_type, "text/csv; charset=utf-8");
    assert_eq!(csv.rows, 2);
    let text = String::from_utf8(csv.content).unwrap();
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(
        text.contains("erased:PERSON:PERSON_KIND_ELECTED_OFFICIAL:68298"),
        "{text}"
    );
    assert!(!text.contains(E2), "{text}");

    // Unknown stakeholder: NOT_FOUND.
    let missing = w
        .client
        .get_contact_audit(req(
            pb::ContactAuditRequest {
                scope: Some(pb::contact_audit_request::Scope::StakeholderId(
                    "0190a000-0000-7000-8000-00000000ffff".into(),
                )),
                ..Default::default()
            },
            &token,
        ))
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
}

/// Survey S1's results: its three responses, the choices counted, the scale's
/// mean and distribution, the rankings' mean positions, the audiences.
#[tokio::test]
async fn survey_results_count_choices_scales_rankings_and_audiences() {
    let mut w = world().await;
    let token = w.analyst.clone();
    let survey = w
        .client
        .get_survey_results(req(
            pb::SurveyResultsRequest {
                survey_id: S1.into(),
                as_of: None,
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(survey.responses, 3);
    assert_eq!(survey.status, pb::SurveyStatus::Closed as i32);
    let q1 = &survey.questions[0];
    let chosen: Vec<(&str, u64)> = q1
        .options
        .iter()
        .map(|o| (o.option_id.as_str(), o.count))
        .collect();
    assert_eq!(chosen, [("cowork", 2), ("fablab", 1)]);
    // Scale answers 4, 5, 3: mean 4.
    let q2 = &survey.questions[1];
    assert!(close(q2.scale_mean, 4.0));
    let distribution: Vec<(i32, u64)> = q2
        .scale_distribution
        .iter()
        .map(|s| (s.value, s.count))
        .collect();
    assert_eq!(distribution, [(1, 0), (2, 0), (3, 1), (4, 1), (5, 1)]);
    // Rankings abc, bac, acb: a (1+2+1)/3, b (2+1+3)/3, c (3+3+2)/3.
    let q3 = &survey.questions[2];
    assert!(close(q3.options[0].mean_position, 4.0 / 3.0));
    assert!(close(q3.options[1].mean_position, 2.0));
    assert!(close(q3.options[2].mean_position, 8.0 / 3.0));
    assert_eq!(
        counts(&survey.responses_by_commune),
        [(LIEPVRE, 1), (ROMBACH, 1), (SAINTE_MARIE, 1)]
    );
    assert_eq!(
        counts(&survey.responses_by_audience),
        [
            ("ENGAGEMENT_AUDIENCE_BUSINESSES", 1),
            ("ENGAGEMENT_AUDIENCE_POPULATION", 2)
        ]
    );
}

/// The EPCI's action statistics: invitations, answers and attendance of the
/// held action, by theme and by audience, the cancelled one counted apart.
/// The survey list: S1 (closed, three responses) for facilitators and
/// analysts, filtered by status; facilitators read its counts too; auditors
/// neither.
#[tokio::test]
async fn surveys_are_listed_with_their_status_for_facilitators_and_analysts() {
    let mut w = world().await;
    let list = |token: &str, status: pb::SurveyStatus| {
        req(
            pb::SurveyListRequest {
                status: status as i32,
                ..Default::default()
            },
            token,
        )
    };
    for token in [w.facilitator.clone(), w.analyst.clone(), w.admin.clone()] {
        let surveys = w
            .client
            .list_surveys(list(&token, pb::SurveyStatus::Unspecified))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(surveys.total, 1);
        let item = &surveys.items[0];
        assert_eq!(item.survey_id, S1);
        assert_eq!(item.status, pb::SurveyStatus::Closed as i32);
        assert_eq!(item.responses, 3);
        assert!(item.opened_at.is_some() && item.closed_at.is_some());
        let open = w
            .client
            .list_surveys(list(&token, pb::SurveyStatus::Open))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(open.total, 0);
    }
    let facilitator = w.facilitator.clone();
    let results = w
        .client
        .get_survey_results(req(
            pb::SurveyResultsRequest {
                survey_id: S1.into(),
                as_of: None,
            },
            &facilitator,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(results.responses, 3);
    let auditor = w.auditor.clone();
    let denied = w
        .client
        .list_surveys(list(&auditor, pb::SurveyStatus::Unspecified))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    let bad = w
        .client
        .list_surveys(req(
            pb::SurveyListRequest {
                status: 99,
                ..Default::default()
            },
            &facilitator,
        ))
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert!(bad.message().starts_with("status: "), "{bad:?}");
}

#[tokio::test]
async fn action_statistics_count_invitations_answers_and_attendance() {
    let mut w = world().await;
    let token = w.analyst.clone();
    let actions = w
        .client
        .get_action_statistics(req(
            pb::ActionStatisticsRequest {
                territory: epci(),
                as_of: None,
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner();
    let overall = actions.overall.unwrap();
    // A1 held, A2 cancelled; A1: 4 invited, 3 accepted (E1, E2, B1), 1 declined;
    // attended E1, B1 (both accepted) + 12 anonymous: rate 2/3.
    assert_eq!(
        (
            overall.actions,
            overall.held,
            overall.cancelled,
            overall.invited,
            overall.accepted,
            overall.declined
        ),
        (2, 1, 1, 4, 3, 1)
    );
    assert_eq!(
        (
            overall.attended,
            overall.accepted_attended,
            overall.anonymous_attendees
        ),
        (2, 2, 12)
    );
    assert!(close(overall.attendance_rate, 2.0 / 3.0));
    let telework = actions
        .by_theme
        .iter()
        .find(|g| g.group == "ENGAGEMENT_THEME_TELEWORK")
        .unwrap();
    assert!(close(telework.attendance_rate, 2.0 / 3.0));
    let population = actions
        .by_audience
        .iter()
        .find(|g| g.group == "ENGAGEMENT_AUDIENCE_POPULATION")
        .unwrap();
    // Only A2 targets the population, and it was cancelled.
    assert_eq!(
        (population.actions, population.held, population.cancelled),
        (1, 0, 1)
    );
}

/// The consortium's state: its colleges and body, the meeting's tally of the
/// adopted resolution, and the commitments overdue now but not as of day 34.
#[tokio::test]
async fn the_consortium_state_tallies_the_vote_and_flags_overdue_commitments() {
    let mut w = world().await;
    let token = w.analyst.clone();
    let consortium = w
        .client
        .get_consortium_state(req(
            pb::ConsortiumStateRequest {
                consortium_id: C1.into(),
                as_of: None,
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner();
    let colleges: Vec<(&str, Vec<&str>)> = consortium
        .colleges
        .iter()
        .map(|c| {
            (
                c.college_code.as_str(),
                c.member_ids.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        colleges,
        [("collectivites", vec![L1]), ("entreprises", vec![B1])]
    );
    assert_eq!(consortium.bodies.len(), 1);
    let meeting = &consortium.meetings[0];
    assert_eq!((meeting.members_present, meeting.resolutions.len()), (2, 1));
    let resolution = &meeting.resolutions[0];
    assert_eq!(resolution.status, pb::ResolutionStatus::Adopted as i32);
    assert_eq!(resolution.ballots, 2);
    let tally = resolution.tally.clone().unwrap();
    assert_eq!(tally.votes_for.unwrap().numerator, "60");
    assert_eq!(tally.votes_against.unwrap().numerator, "40");
    // Now is day 50: K1 (due day 35, 50 %) is overdue, K2 (due day 60) is not.
    assert_eq!(consortium.overdue_commitment_ids, [K1]);
    assert_eq!(consortium.commitments[0].percent, 50);
    assert!(!consortium.commitments[1].overdue);
    // As of day 34, K1 was not overdue yet.
    let earlier = w
        .client
        .get_consortium_state(req(
            pb::ConsortiumStateRequest {
                consortium_id: C1.into(),
                as_of: Some(timestamp(day(34))),
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(earlier.overdue_commitment_ids.is_empty());
}

/// B1's timeline: every kind of fact about the stakeholder, in time order.
#[tokio::test]
async fn a_stakeholder_timeline_lists_every_kind_of_fact_in_time_order() {
    let mut w = world().await;
    let token = w.analyst.clone();
    // B1's timeline: registered, invited, answered, membership, contact,
    // attendance, survey response, meeting attendance, vote — in time order.
    let timeline = w
        .client
        .get_stakeholder_timeline(req(
            pb::StakeholderTimelineRequest {
                stakeholder_id: B1.into(),
                as_of: None,
                page: None,
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner();
    let kinds: Vec<&str> = timeline.entries.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            // Day 6: the engagement and governance facts of one instant
            // sort by context.
            "REGISTERED",
            "INVITATION",
            "MEMBERSHIP_APPLIED",
            "MEMBERSHIP_ADMITTED",
            "INVITATION_ANSWER",
            "CONTACT",
            "ATTENDANCE",
            "SURVEY_RESPONSE",
            "MEETING_ATTENDANCE",
            "VOTE",
        ]
    );
    assert_eq!(timeline.entries[9].detail, "VOTE_CHOICE_AGAINST");
}

#[tokio::test]
async fn an_export_asked_with_its_provenance_states_the_request_and_each_log_s_last_event() {
    let mut w = world().await;
    let request = |format: pb::ExportFormat| pb::ExportReportRequest {
        with_provenance: true,
        format: format as i32,
        report: Some(pb::export_report_request::Report::TerritoryEngagement(
            territory_request(None),
        )),
    };
    let analyst = w.analyst.clone();
    let heads = [
        ("stakeholders", w.logs.stakeholders.head()),
        ("engagement", w.logs.engagement.head()),
        ("governance", w.logs.governance.head()),
    ];
    let csv = w
        .client
        .export_report(req(request(pb::ExportFormat::Csv), &analyst))
        .await
        .unwrap()
        .into_inner();
    let text = String::from_utf8(csv.content.clone()).unwrap();
    let mut lines = text.lines();
    let first = lines.next().unwrap();
    let encoded = first.strip_prefix("# maillage-request,").expect(first);
    assert_eq!(
        pb::ExportReportRequest::decode(hex::decode(encoded).unwrap().as_slice()).unwrap(),
        request(pb::ExportFormat::Csv),
        "the request it answers, to send again"
    );
    // Every event is applied: each log's source is its head, with its hash.
    for (context, head) in heads {
        let line = format!(
            "# maillage-source,{context},{},{}",
            head.position,
            hex::encode(head.hash)
        );
        assert!(text.contains(&format!("{line}\r\n")), "{line} in {text}");
        assert!(csv
            .sources
            .iter()
            .any(|s| s.context == context && s.position == head.position));
    }
    assert!(
        text.lines()
            .nth(4)
            .unwrap()
            .starts_with("code,name,population"),
        "then the document as without provenance: {text}"
    );
    let plain = w
        .client
        .export_report(req(
            pb::ExportReportRequest {
                with_provenance: false,
                ..request(pb::ExportFormat::Csv)
            },
            &analyst,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(csv.content.ends_with(&plain.content));
    assert_eq!(
        plain.sources, csv.sources,
        "the reply names its sources either way"
    );
    let json = w
        .client
        .export_report(req(request(pb::ExportFormat::Json), &analyst))
        .await
        .unwrap()
        .into_inner();
    let value: serde_json::Value = serde_json::from_slice(&json.content).unwrap();
    assert_eq!(value["provenance"]["sources"].as_array().unwrap().len(), 3);
    assert_eq!(
        value["provenance"]["sources"][1]["position"],
        serde_json::json!(w.logs.engagement.head().position)
    );
}

#[tokio::test]
async fn as_of_replays_only_earlier_events_and_twice_gives_identical_bytes() {
    let mut w = world().await;
    let export = |format: pb::ExportFormat, as_of: Option<i64>| pb::ExportReportRequest {
        with_provenance: false,
        format: format as i32,
        report: Some(pb::export_report_request::Report::ContactAudit(
            audit_request(as_of),
        )),
    };
    let auditor = w.auditor.clone();
    for format in [pb::ExportFormat::Csv, pb::ExportFormat::Json] {
        let first = w
            .client
            .export_report(req(export(format, Some(day(20))), &auditor))
            .await
            .unwrap()
            .into_inner();
        let second = w
            .client
            .export_report(req(export(format, Some(day(20))), &auditor))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(first.content, second.content);
        // As of day 20, E2 was not erased yet: I2 is sealed, not erased.
        let text = String::from_utf8(first.content).unwrap();
        assert!(!text.contains("\"subject\": \"erased\""), "{text}");
        assert!(!text.contains(",erased,"), "{text}");
        assert!(text.contains(E2), "{text}");
        // Replaying everything gives today's export byte for byte.
        let replayed = w
            .client
            .export_report(req(export(format, Some(day(1000))), &auditor))
            .await
            .unwrap()
            .into_inner();
        let live = w
            .client
            .export_report(req(export(format, None), &auditor))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(replayed.content, live.content);
    }
    // As of day 11: only I1 was logged (day 10), uncorrected (the correction is day 25).
    let audit = w
        .client
        .get_contact_audit(req(audit_request(Some(day(11))), &auditor))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(audit.total, 1);
    assert_eq!(audit.rows[0].channel, "INTERACTION_CHANNEL_IN_PERSON");
    assert!(audit.rows[0].corrections.is_empty());

    let analyst = w.analyst.clone();
    let territory = w
        .client
        .get_territory_engagement(req(territory_request(Some(day(11))), &analyst))
        .await
        .unwrap()
        .into_inner();
    // Day 11: E1 and B1 contacted (I1); A1 not held yet (day 15); no survey yet.
    assert_eq!(
        (territory.elus_engaged, territory.businesses_engaged),
        (1, 1)
    );
    assert_eq!((territory.actions_held, territory.survey_responses), (0, 0));
    assert_eq!(territory.communes_with_elu_contacted, 1);
    assert_eq!(territory.as_of, Some(timestamp(day(11))));
    let territory_export = |as_of| pb::ExportReportRequest {
        with_provenance: false,
        format: pb::ExportFormat::Json as i32,
        report: Some(pb::export_report_request::Report::TerritoryEngagement(
            territory_request(as_of),
        )),
    };
    let a = w
        .client
        .export_report(req(territory_export(Some(day(16))), &analyst))
        .await
        .unwrap()
        .into_inner();
    let b = w
        .client
        .export_report(req(territory_export(Some(day(16))), &analyst))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(a.content, b.content);
    assert_eq!(a.content_type, "application/json");
    // Before anything was recorded the survey did not exist.
    let none = w
        .client
        .get_survey_results(req(
            pb::SurveyResultsRequest {
                survey_id: S1.into(),
                as_of: Some(timestamp(day(0))),
            },
            &analyst,
        ))
        .await
        .unwrap_err();
    assert_eq!(none.code(), Code::NotFound);
}

#[tokio::test]
async fn roles_are_enforced() {
    let mut w = world().await;
    let territory = |token: &str| req(territory_request(None), token);
    let audit = |token: &str| req(audit_request(None), token);
    let (analyst, auditor, facilitator, admin) = (
        w.analyst.clone(),
        w.auditor.clone(),
        w.facilitator.clone(),
        w.admin.clone(),
    );
    assert!(w
        .client
        .get_territory_engagement(territory(&analyst))
        .await
        .is_ok());
    assert!(w
        .client
        .get_territory_engagement(territory(&admin))
        .await
        .is_ok());
    for token in [&auditor, &facilitator] {
        let denied = w
            .client
            .get_territory_engagement(territory(token))
            .await
            .unwrap_err();
        assert_eq!(denied.code(), Code::PermissionDenied);
    }
    assert!(w.client.get_contact_audit(audit(&auditor)).await.is_ok());
    assert!(w.client.get_contact_audit(audit(&admin)).await.is_ok());
    for token in [&analyst, &facilitator] {
        let denied = w.client.get_contact_audit(audit(token)).await.unwrap_err();
        assert_eq!(denied.code(), Code::PermissionDenied);
    }
    // The audit export follows the audit's role.
    let export = pb::ExportReportRequest {
        with_provenance: false,
        format: pb::ExportFormat::Csv as i32,
        report: Some(pb::export_report_request::Report::ContactAudit(
            audit_request(None),
        )),
    };
    let denied = w
        .client
        .export_report(req(export, &analyst))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    let denied = w
        .client
        .rebuild(req(pb::ProjectionRebuildRequest {}, &analyst))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    let anonymous = w
        .client
        .get_territory_engagement(Request::new(territory_request(None)))
        .await
        .unwrap_err();
    assert_eq!(anonymous.code(), Code::Unauthenticated);
    // Follow-ups: their owners (facilitators) and analysts list them.
    let follow_ups = |token: &str, owner: &str| {
        req(
            pb::FollowUpListRequest {
                owner: owner.into(),
                ..Default::default()
            },
            token,
        )
    };
    for token in [&facilitator, &analyst, &admin] {
        assert!(w
            .client
            .list_follow_ups(follow_ups(token, ""))
            .await
            .is_ok());
    }
    let denied = w
        .client
        .list_follow_ups(follow_ups(&auditor, ""))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    let bad = w
        .client
        .list_follow_ups(follow_ups(&facilitator, "pas un nom\n"))
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert!(bad.message().starts_with("owner: "), "{bad:?}");
}

#[tokio::test]
async fn a_bad_territory_is_an_invalid_argument_naming_the_field() {
    let mut w = world().await;
    let token = w.analyst.clone();
    let cases = [
        (pb::TerritoryLevel::Commune, "99999", "territory.code"),
        (pb::TerritoryLevel::Epci, "123", "territory.code"),
        (pb::TerritoryLevel::Unspecified, EPCI, "territory.level"),
    ];
    for (level, code, field) in cases {
        let status = w
            .client
            .get_territory_engagement(req(
                pb::TerritoryEngagementRequest {
                    territory: Some(pb::TerritoryRef {
                        level: level as i32,
                        code: code.into(),
                    }),
                    as_of: None,
                    page: None,
                },
                &token,
            ))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{code}");
        assert!(
            status.message().starts_with(&format!("{field}: ")),
            "{status:?}"
        );
    }
    // A name instead of a code: the closest names say what was meant.
    let status = w
        .client
        .get_territory_engagement(req(
            pb::TerritoryEngagementRequest {
                territory: Some(pb::TerritoryRef {
                    level: pb::TerritoryLevel::Commune as i32,
                    code: "Liepvre".into(),
                }),
                as_of: None,
                page: None,
            },
            &token,
        ))
        .await
        .unwrap_err();
    assert!(
        status
            .message()
            .contains("closest names: Lièpvre (commune:68185)"),
        "{status:?}"
    );
    let missing = w
        .client
        .get_territory_engagement(req(pb::TerritoryEngagementRequest::default(), &token))
        .await
        .unwrap_err();
    assert!(missing.message().starts_with("territory: "), "{missing:?}");
}

#[tokio::test]
async fn a_malformed_id_is_an_invalid_argument_that_does_not_echo_it() {
    let mut w = world().await;
    let token = w.analyst.clone();
    let hostile = format!("{}\n{}", "x".repeat(50_000), "y".repeat(50_000));
    let survey = w
        .client
        .get_survey_results(req(
            pb::SurveyResultsRequest {
                survey_id: hostile.clone(),
                ..Default::default()
            },
            &token,
        ))
        .await
        .unwrap_err();
    let consortium = w
        .client
        .get_consortium_state(req(
            pb::ConsortiumStateRequest {
                consortium_id: hostile.clone(),
                ..Default::default()
            },
            &token,
        ))
        .await
        .unwrap_err();
    // Checked before the replay its as_of asks for.
    let timeline = w
        .client
        .get_stakeholder_timeline(req(
            pb::StakeholderTimelineRequest {
                stakeholder_id: hostile,
                as_of: Some(timestamp(day(400))),
                ..Default::default()
            },
            &token,
        ))
        .await
        .unwrap_err();
    for (status, field) in [
        (survey, "survey_id"),
        (consortium, "consortium_id"),
        (timeline, "stakeholder_id"),
    ] {
        assert_eq!(status.code(), Code::InvalidArgument, "{field}");
        assert_eq!(status.message(), format!("{field}: must be a UUID"));
    }
}

#[tokio::test]
async fn redelivery_restart_and_rebuild_change_nothing() {
    let mut w = world().await;
    let token = w.analyst.clone();
    let snapshot = |report: pb::TerritoryEngagementReport| report.encode_to_vec();
    let before = snapshot(
        w.client
            .get_territory_engagement(req(territory_request(None), &token))
            .await
            .unwrap()
            .into_inner(),
    );
    // The same events delivered again: all skipped, nothing changes.
    let mut all = Vec::new();
    for (context, store) in w.logs.pairs() {
        for record in store.read_all(1, 10_000).unwrap() {
            all.push(maillage_envelope::to_envelope(context, &record));
        }
    }
    let outcome = w.projections.live().apply_batch(&all).unwrap();
    assert_eq!((outcome.applied, outcome.duplicates), (0, all.len()));
    let again = snapshot(
        w.client
            .get_territory_engagement(req(territory_request(None), &token))
            .await
            .unwrap()
            .into_inner(),
    );
    assert_eq!(before, again);

    // A rebuild from position 1 gives the same read models.
    let admin = w.admin.clone();
    let rebuilt = w
        .client
        .rebuild(req(pb::ProjectionRebuildRequest {}, &admin))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(rebuilt.events_replayed, all.len() as u64);
    let heads = w.logs.heads();
    for checkpoint in &rebuilt.checkpoints {
        assert_eq!(checkpoint.position, heads[checkpoint.context.as_str()]);
    }
    let after_rebuild = snapshot(
        w.client
            .get_territory_engagement(req(territory_request(None), &token))
            .await
            .unwrap()
            .into_inner(),
    );
    assert_eq!(before, after_rebuild);

    let status = w
        .client
        .get_projection_status(req(pb::ProjectionStatusRequest {}, &token))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(status.checkpoints.len(), 3);
}

#[tokio::test]
async fn a_restart_reloads_the_read_models_and_resumes_from_the_checkpoints() {
    use maillage_projections::queries::{self, Page};
    let dir = tempfile::tempdir().unwrap();
    let logs = Logs::open(&dir.path().join("logs"));
    let events = scenario();
    let (before, after) = events.split_at(events.len() - 5);
    logs.append(before).await;
    let path = dir.path().join("projections");
    let epci = maillage_territory::TerritoryRef::epci(EPCI).unwrap();
    let territory = maillage_territory::Territory::shared();
    let answer = |projections: &Projections| {
        queries::territory::report(&projections.live().read(), territory, &epci, Page::ALL)
            .encode_to_vec()
    };
    let first_answer = {
        let projections = Projections::open(&path, local_sources(&logs.pairs())).unwrap();
        let consumer = projections.spawn_direct(&logs.pairs()).unwrap();
        wait_caught_up(&projections, &logs).await;
        consumer.abort();
        let _ = consumer.await;
        answer(&projections)
    };
    // Reopened: the same read models and checkpoints, from sled alone (the
    // storage waits for the lock sled releases just after the drop).
    let projections = Projections::open(&path, local_sources(&logs.pairs())).unwrap();
    assert_eq!(answer(&projections), first_answer);
    let heads = logs.heads();
    for (context, position) in projections.live().checkpoints() {
        assert_eq!(position, heads[context.as_str()]);
    }
    // The feed resumes after the checkpoints: the last events arrive once.
    projections.spawn_direct(&logs.pairs()).unwrap();
    logs.append(after).await;
    wait_caught_up(&projections, &logs).await;
    let mut fresh = maillage_projections::ReadModel::new();
    for (_, log) in envelopes(&events) {
        for envelope in &log {
            fresh.apply(envelope);
        }
    }
    assert_eq!(
        answer(&projections),
        queries::territory::report(&fresh, territory, &epci, Page::ALL).encode_to_vec()
    );
}

/// The engagement's working lists: the actions, most recently planned first
/// and by status; two interviews and a diagnostic recorded later, most
/// recently conducted first; the roles that read them; a bad status refused.
#[tokio::test]
async fn actions_interviews_and_diagnostics_are_listed_for_facilitators() {
    let mut w = world().await;
    let facilitator = w.facilitator.clone();
    let list = |status: pb::ActionStatus, token: &str| {
        req(
            pb::ActionListRequest {
                status: status as i32,
                ..Default::default()
            },
            token,
        )
    };
    let actions = w
        .client
        .list_actions(list(pb::ActionStatus::Unspecified, &facilitator))
        .await
        .unwrap()
        .into_inner();
    let ids: Vec<&str> = actions.items.iter().map(|a| a.action_id.as_str()).collect();
    assert_eq!(ids, vec![A2, A1]);
    assert_eq!(actions.total, 2);
    let held = &actions.items[1];
    assert_eq!(held.kind, pb::ActionKind::Roundtable as i32);
    assert_eq!(held.commune_code, SAINTE_MARIE);
    assert_eq!(
        (held.invited, held.attendees, held.anonymous_attendees),
        (4, 2, 12)
    );
    assert_eq!(held.planned_by, "alice");
    assert!(held.held_at.is_some());
    assert_eq!(
        held.topics,
        vec![
            pb::Theme::BusinessConvergence as i32,
            pb::Theme::Telework as i32
        ]
    );
    let cancelled = w
        .client
        .list_actions(list(pb::ActionStatus::Cancelled, &w.analyst.clone()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(cancelled.items.len(), 1);
    assert_eq!(cancelled.items[0].action_id, A2);
    // One per page, the next page where the first ends.
    let first = w
        .client
        .list_actions(req(
            pb::ActionListRequest {
                page: Some(pb::PageRequest {
                    page_size: 1,
                    page_token: String::new(),
                }),
                ..Default::default()
            },
            &facilitator,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.items.len(), 1);
    assert_eq!(first.total, 2);
    assert!(!first.page.unwrap().next_page_token.is_empty());

    let interview = |id: &str, at: i64, who: pb::interview_subject::Who| {
        ev(
            "engagement",
            format!("interview-{id}"),
            at,
            "alice",
            pb::InterviewRecorded {
                interview_id: id.into(),
                subject: Some(pb::InterviewSubject { who: Some(who) }),
                conducted_at: ts(at),
                topics: vec![pb::Theme::Telework as i32],
                sealed_notes: vec![1, 2, 3],
                ..Default::default()
            },
        )
    };
    let (older, newer, diagnostic) = (
        "0190a000-0000-7000-8000-0000000007a1",
        "0190a000-0000-7000-8000-0000000007a2",
        "0190a000-0000-7000-8000-0000000007d1",
    );
    w.logs
        .append(&[
            interview(
                newer,
                day(72),
                pb::interview_subject::Who::Anonymous(pb::AnonymousParticipant {
                    audience: pb::EngagementAudience::Population as i32,
                    commune_code: LIEPVRE.into(),
                }),
            ),
            interview(
                older,
                day(71),
                pb::interview_subject::Who::StakeholderId(E1.into()),
            ),
            ev(
                "engagement",
                format!("diagnostic-{diagnostic}"),
                day(73),
                "bruno",
                pb::DiagnosticRecorded {
                    diagnostic_id: diagnostic.into(),
                    tiers_lieu_id: L1.into(),
                    conducted_at: ts(day(70)),
                    findings: Some(pb::DiagnosticFindings {
                        development_priorities: vec!["Télétravail".into(), "Fablab".into()],
                        ..Default::default()
                    }),
                    sealed_notes: vec![4, 5],
                    ..Default::default()
                },
            ),
        ])
        .await;
    wait_caught_up(&w.projections, &w.logs).await;
    let interviews = w
        .client
        .list_interviews(req(pb::InterviewListRequest::default(), &facilitator))
        .await
        .unwrap()
        .into_inner();
    let ids: Vec<&str> = interviews
        .items
        .iter()
        .map(|i| i.interview_id.as_str())
        .collect();
    assert_eq!(ids, vec![newer, older]);
    assert_eq!(interviews.items[0].anonymous_commune_code, LIEPVRE);
    assert_eq!(interviews.items[1].stakeholder_id, E1);
    assert_eq!(interviews.items[1].interviewer, "alice");
    let diagnostics = w
        .client
        .list_diagnostics(req(pb::DiagnosticListRequest::default(), &facilitator))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(diagnostics.items.len(), 1);
    let found = &diagnostics.items[0];
    assert_eq!(
        (found.tiers_lieu_id.as_str(), found.conducted_by.as_str()),
        (L1, "bruno")
    );
    assert_eq!(found.development_priorities, 2);
    // As of day 60, none of them was recorded yet.
    let earlier = w
        .client
        .list_interviews(req(
            pb::InterviewListRequest {
                as_of: ts(day(60)),
                page: None,
            },
            &facilitator,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(earlier.total, 0);

    // Auditors do not read them; a status that is no ActionStatus is refused.
    let auditor = w.auditor.clone();
    for denied in [
        w.client
            .list_actions(list(pb::ActionStatus::Unspecified, &auditor))
            .await
            .unwrap_err(),
        w.client
            .list_interviews(req(pb::InterviewListRequest::default(), &auditor))
            .await
            .unwrap_err(),
        w.client
            .list_diagnostics(req(pb::DiagnosticListRequest::default(), &auditor))
            .await
            .unwrap_err(),
    ] {
        assert_eq!(denied.code(), Code::PermissionDenied);
    }
    let bad = w
        .client
        .list_actions(req(
            pb::ActionListRequest {
                status: 99,
                ..Default::default()
            },
            &facilitator,
        ))
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert!(bad.message().starts_with("status: "), "{bad:?}");
}

/// `CompareTerritory` from day 11 to now says what the territory report and
/// the consortium state say at each instant, and refuses a bad request.
#[tokio::test]
async fn a_comparison_of_two_instants_agrees_with_the_reports_at_each() {
    let mut w = world().await;
    let token = w.analyst.clone();
    let comparison = w
        .client
        .compare_territory(req(
            pb::TerritoryComparisonRequest {
                territory: epci(),
                from: Some(timestamp(day(11))),
                to: None,
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner();
    let mut reports = Vec::new();
    for as_of in [Some(day(11)), None] {
        let mut report = w
            .client
            .get_territory_engagement(req(territory_request(as_of), &token))
            .await
            .unwrap()
            .into_inner();
        (report.communes, report.page, report.as_of) = (Vec::new(), None, None);
        reports.push(report);
    }
    assert_eq!(comparison.before.as_ref(), Some(&reports[0]));
    assert_eq!(comparison.after.as_ref(), Some(&reports[1]));
    assert!(reports[0].contacts < reports[1].contacts);
    let white = |report: &pb::TerritoryEngagementReport| -> std::collections::BTreeSet<String> {
        report.white_zone_communes.iter().cloned().collect()
    };
    let left: Vec<String> = white(&reports[0])
        .difference(&white(&reports[1]))
        .cloned()
        .collect();
    assert_eq!(comparison.left_white_zone, left);
    assert!(
        !left.is_empty(),
        "the scenario reaches communes after day 11"
    );

    // The consortium at both instants: what moved, what was voted.
    let mut states = Vec::new();
    for as_of in [Some(day(11)), None] {
        states.push(
            w.client
                .get_consortium_state(req(
                    pb::ConsortiumStateRequest {
                        consortium_id: C1.into(),
                        as_of: as_of.map(timestamp),
                    },
                    &token,
                ))
                .await
                .unwrap()
                .into_inner(),
        );
    }
    let moved: Vec<&str> = states[1]
        .commitments
        .iter()
        .filter(|now| {
            !states[0].commitments.iter().any(|then| {
                then.commitment_id == now.commitment_id
                    && then.status == now.status
                    && then.percent == now.percent
            })
        })
        .map(|c| c.commitment_id.as_str())
        .collect();
    let reported: Vec<&str> = comparison
        .commitments
        .iter()
        .map(|c| c.commitment_id.as_str())
        .collect();
    assert_eq!(reported, moved);
    assert!(!moved.is_empty());
    assert_eq!(comparison.resolutions.len(), 1);
    assert_eq!(
        comparison.resolutions[0].status,
        pb::ResolutionStatus::Adopted as i32
    );
    assert!(comparison
        .sources_before
        .iter()
        .all(|s| s.position > 0 || s.hash.is_empty()));
    assert_eq!(
        comparison.sources_after.len(),
        comparison.sources_before.len()
    );

    // Bad requests, each naming its field.
    let refusals = [
        (
            pb::TerritoryComparisonRequest {
                territory: epci(),
                from: None,
                to: None,
            },
            "from",
        ),
        (
            pb::TerritoryComparisonRequest {
                territory: epci(),
                from: Some(timestamp(day(20))),
                to: Some(timestamp(day(10))),
            },
            "to",
        ),
        (
            pb::TerritoryComparisonRequest {
                territory: None,
                from: Some(timestamp(day(10))),
                to: None,
            },
            "territory",
        ),
    ];
    for (request, field) in refusals {
        let status = w
            .client
            .compare_territory(req(request, &token))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
        assert!(status.message().starts_with(field), "{status:?}");
    }
    let facilitator = w.facilitator.clone();
    let denied = w
        .client
        .compare_territory(req(
            pb::TerritoryComparisonRequest {
                territory: epci(),
                from: Some(timestamp(day(10))),
                to: None,
            },
            &facilitator,
        ))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
}
