//! End to end: the scenario of `maillage_e2e::scenario` through the real
//! binaries as separate processes over a private `nats-server -js`, then in
//! one process on the direct feed; the projections' answers are checked
//! against figures computed by hand (in the comments of [`check`]) and the two
//! shapes must give the same answers.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

use maillage_service_kit::Role;
use std::collections::BTreeMap;

use maillage_e2e::clients::{bearer, Clients, Secrets};
use maillage_e2e::cluster::{InProcess, Processes};
use maillage_e2e::scenario::{self, Answers, Outcome, *};
use maillage_proto::v1 as pb;

fn counts(list: &[pb::LabelCount]) -> Vec<(&str, u64)> {
    list.iter().map(|c| (c.label.as_str(), c.count)).collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

fn whole(n: u64) -> Option<pb::WeightRatio> {
    Some(pb::WeightRatio {
        numerator: n.to_string(),
        denominator: "1".into(),
    })
}

/// Every figure, computed by hand from the scenario (see its module docs).
fn check(a: &Answers, out: &Outcome) {
    let id = |name: &str| out.id(name);

    // ---- Territory engagement of CC du Val d'Argent.
    let t = &a.territory;
    assert_eq!(t.name, "CC du Val d'Argent");
    assert_eq!(t.communes_total, 4);
    // 1,632 + 775 + 1,742 + 4,851.
    assert_eq!(t.population, 9_000);
    // Located in the EPCI: E1, B2 (Lièpvre); E3, BL (Rombach); T1, P1
    // (Sainte-Croix); E2, B1, L1 (Sainte-Marie) = 9; E4 is in Colmar.
    assert_eq!(t.stakeholders_total, 9);
    assert_eq!(
        counts(&t.stakeholders_by_kind),
        [
            ("ORGANISATION_BUSINESS", 2),
            ("ORGANISATION_LOCAL_AUTHORITY", 1),
            ("ORGANISATION_TIERS_LIEU", 1),
            ("PERSON_KIND_BUSINESS_LEADER", 1),
            ("PERSON_KIND_ELECTED_OFFICIAL", 3),
            ("PERSON_KIND_INHABITANT", 1),
        ]
    );
    // Élus E1, E2, E3; contacted E1 (I1, I4) and E2 (I2).
    assert_eq!((t.elus, t.elus_engaged), (3, 2));
    // Businesses B1, B2, BL; contacted B2 (I1) and B1 (I3).
    assert_eq!((t.businesses, t.businesses_engaged), (3, 2));
    // I1, I2, I3, I4 (I5 is with E4, outside); the latest is I4, day 20.
    assert_eq!(t.contacts, 4);
    assert_eq!(t.last_contact_at, Some(day(20, 9)));
    // A1 held in Sainte-Marie; A2 cancelled.
    assert_eq!(t.actions_held, 1);
    assert_eq!(
        counts(&t.actions_held_by_kind),
        [("ACTION_KIND_ROUNDTABLE", 1)]
    );
    assert_eq!(
        counts(&t.actions_held_by_theme),
        [
            ("ENGAGEMENT_THEME_BUSINESS_CONVERGENCE", 1),
            ("ENGAGEMENT_THEME_TELEWORK", 1)
        ]
    );
    // Named E1, B1, T1; anonymous 8 + 3.
    assert_eq!(
        (
            t.named_people_reached,
            t.anonymous_people_reached,
            t.people_reached
        ),
        (3, 11, 14)
    );
    // R1 Lièpvre, R2 Sainte-Croix, R3 Sainte-Marie (anonymous), R4 P1
    // (Sainte-Croix), R5 B1 (Sainte-Marie): all 5 from the EPCI.
    assert_eq!(t.survey_responses, 5);
    // Admitted L1, B1 (Sainte-Marie) and T1 (Sainte-Croix); B2 only applied.
    assert_eq!(t.consortium_members, 3);
    // Élus contacted in Lièpvre (E1) and Sainte-Marie (E2): 2 of 4 communes.
    assert_eq!(t.communes_with_elu_contacted, 2);
    assert!(close(t.coverage, 0.5), "{}", t.coverage);
    // Rombach: E3 and BL registered, never contacted, no action, no response.
    assert_eq!(t.white_zone_communes, [ROMBACH]);
    let rates = t.rates_per_1000.unwrap();
    // Contacted located stakeholders E1, B2, E2, B1, L1: 5 × 1,000 / 9,000.
    assert!(close(rates.stakeholders_contacted, 5_000.0 / 9_000.0));
    assert!(close(rates.people_reached, 14_000.0 / 9_000.0));
    assert!(close(rates.survey_responses, 5_000.0 / 9_000.0));
    assert!(close(rates.actions_held, 1_000.0 / 9_000.0));
    let communes: Vec<_> = t
        .communes
        .iter()
        .map(|c| {
            (
                c.code.as_str(),
                c.population,
                c.stakeholders,
                c.stakeholders_contacted,
                c.elus_contacted,
                c.businesses_contacted,
                c.actions_held,
                c.people_reached,
                c.survey_responses,
                c.white_zone,
            )
        })
        .collect();
    assert_eq!(
        communes,
        [
            // E1, B2 both contacted; R1.
            (LIEPVRE, 1_632, 2, 2, 1, 1, 0, 0, 1, false),
            (ROMBACH, 775, 2, 0, 0, 0, 0, 0, 0, true),
            // T1 (attended A1, member), P1; R2 and R4.
            (SAINTE_CROIX, 1_742, 2, 0, 0, 0, 0, 0, 2, false),
            // E2, B1, L1 all contacted; A1 with 3 named + 11; R3 and R5.
            (SAINTE_MARIE, 4_851, 3, 3, 1, 1, 1, 14, 2, false),
        ]
    );

    // ---- Contact audit of the EPCI's élus and businesses (E1, E2, E3, B1,
    // B2, BL): I1, I2, I3, I4 by date; not I5 (E4, Colmar).
    let rows = &a.audit_territory.rows;
    assert_eq!(a.audit_territory.total, 4);
    let ids: Vec<String> = rows.iter().map(|r| r.interaction_id.clone()).collect();
    assert_eq!(ids, [id("I1"), id("I2"), id("I3"), id("I4")]);
    let channels: Vec<&str> = rows.iter().map(|r| r.channel.as_str()).collect();
    assert_eq!(
        channels,
        [
            "INTERACTION_CHANNEL_IN_PERSON",
            "INTERACTION_CHANNEL_PHONE",
            "INTERACTION_CHANNEL_EMAIL",
            // I4 corrected from video.
            "INTERACTION_CHANNEL_PHONE",
        ]
    );
    for row in rows {
        assert_eq!(row.logged_by, "alice");
        assert_eq!(row.subject, "sealed");
        assert!(row.logged_at.is_some());
    }
    let mut i1: Vec<String> = rows[0]
        .participants
        .iter()
        .map(|p| p.stakeholder_id.clone())
        .collect();
    i1.sort();
    let mut expected = vec![id("E1"), id("B2")];
    expected.sort();
    assert_eq!(i1, expected);
    assert_eq!(rows[0].occurred_at, Some(day(10, 9)));
    let i4 = &rows[3];
    assert_eq!(i4.original_channel, "INTERACTION_CHANNEL_VIDEO");
    assert_eq!(i4.corrections.len(), 1);
    assert_eq!(i4.corrections[0].corrected_by, "alice");
    assert_eq!(i4.corrections[0].fields, ["channel"]);
    assert_eq!(
        i4.corrections[0].values,
        ["channel=INTERACTION_CHANNEL_PHONE"]
    );
    // E1's own audit: I1 and I4.
    let e1: Vec<String> = a
        .audit_e1
        .rows
        .iter()
        .map(|r| r.interaction_id.clone())
        .collect();
    assert_eq!(e1, [id("I1"), id("I4")]);

    // ---- Survey S1: 5 responses, closed.
    let s = &a.survey;
    assert_eq!(s.responses, 5);
    assert_eq!(s.status, pb::SurveyStatus::Closed as i32);
    assert!(s.opened_at.is_some() && s.closed_at.is_some());
    let q = |id: &str| s.questions.iter().find(|q| q.question_id == id).unwrap();
    let option_counts = |id: &str| -> Vec<(String, u64)> {
        q(id)
            .options
            .iter()
            .map(|o| (o.option_id.clone(), o.count))
            .collect()
    };
    let owned = |pairs: &[(&str, u64)]| -> Vec<(String, u64)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
    };
    // q1: coworking R1 R3 R4, fablab R2, cafe R5.
    assert_eq!(q("q1").answered, 5);
    assert_eq!(
        option_counts("q1"),
        owned(&[("coworking", 3), ("fablab", 1), ("cafe", 1)])
    );
    // q2: 4, 5, 3, 2, 5 → 1:0 2:1 3:1 4:1 5:2, mean 19 / 5 = 3.8.
    let scale: Vec<(i32, u64)> = q("q2")
        .scale_distribution
        .iter()
        .map(|c| (c.value, c.count))
        .collect();
    assert_eq!(scale, [(1, 0), (2, 1), (3, 1), (4, 1), (5, 2)]);
    assert!(close(q("q2").scale_mean, 3.8), "{}", q("q2").scale_mean);
    // q3 (R5 skipped it): telework R1 R3 R4, repair R2, training R1, culture R4.
    assert_eq!(q("q3").answered, 4);
    assert_eq!(
        option_counts("q3"),
        owned(&[
            ("telework", 3),
            ("repair", 1),
            ("training", 1),
            ("culture", 1)
        ])
    );
    // q4 rankings abc, bac, acb, cab, abc: a at 1+2+1+2+1 = 7, b at
    // 2+1+3+3+2 = 11, c at 3+3+2+1+3 = 12, over 5 answers each.
    let ranking: Vec<(String, u64, f64)> = q("q4")
        .options
        .iter()
        .map(|o| (o.option_id.clone(), o.count, o.mean_position))
        .collect();
    assert_eq!(ranking.len(), 3);
    for ((option, count, mean), (want_option, want_mean)) in
        ranking.iter().zip([("a", 1.4), ("b", 2.2), ("c", 2.4)])
    {
        assert_eq!((option.as_str(), *count), (want_option, 5));
        assert!(close(*mean, want_mean), "{option}: {mean}");
    }
    // q5: only R4 wrote something.
    assert_eq!(q("q5").answered, 1);
    // Lièpvre R1; Sainte-Croix R2 and P1's R4; Sainte-Marie R3 and B1's R5.
    assert_eq!(
        counts(&s.responses_by_commune),
        [(LIEPVRE, 1), (SAINTE_CROIX, 2), (SAINTE_MARIE, 2)]
    );
    // Population R1, R2 and P1 (inhabitant); businesses R3 and B1.
    assert_eq!(
        counts(&s.responses_by_audience),
        [
            ("ENGAGEMENT_AUDIENCE_BUSINESSES", 2),
            ("ENGAGEMENT_AUDIENCE_POPULATION", 3)
        ]
    );

    // ---- Action statistics of the EPCI: A1 held, A2 cancelled; invited 5,
    // accepted E1 E2 B1 T1, declined B2; attended E1 B1 T1 (all accepted):
    // attendance rate 3 / 4.
    let all = a.actions.overall.clone().unwrap();
    assert_eq!((all.actions, all.held, all.cancelled), (2, 1, 1));
    assert_eq!((all.invited, all.accepted, all.declined), (5, 4, 1));
    assert_eq!((all.attended, all.accepted_attended), (3, 3));
    assert_eq!(all.anonymous_attendees, 11);
    assert!(close(all.attendance_rate, 0.75));

    // ---- Consortium C1.
    let c = &a.consortium;
    assert_eq!(c.name, "Consortium des tiers-lieux du Val d'Argent");
    assert_eq!(c.founding_collectivite_id, id("L1"));
    let colleges: Vec<(&str, i64, Vec<String>, u64)> = c
        .colleges
        .iter()
        .map(|college| {
            (
                college.college_code.as_str(),
                college.weight,
                college.member_ids.clone(),
                college.applied,
            )
        })
        .collect();
    assert_eq!(
        colleges,
        [
            ("collectivites", 40, vec![id("L1")], 0),
            ("entreprises", 30, vec![id("B1")], 1),
            ("tiers-lieux", 30, vec![id("T1")], 0),
        ]
    );
    let memberships: BTreeMap<String, (i32, String)> = c
        .memberships
        .iter()
        .map(|m| (m.member_id.clone(), (m.status, m.representative_id.clone())))
        .collect();
    let admitted = pb::MembershipStatus::Admitted as i32;
    assert_eq!(memberships.len(), 4);
    assert_eq!(memberships[&id("L1")], (admitted, id("E2")));
    assert_eq!(memberships[&id("B1")], (admitted, String::new()));
    assert_eq!(memberships[&id("T1")], (admitted, String::new()));
    assert_eq!(
        memberships[&id("B2")],
        (pb::MembershipStatus::Applied as i32, String::new())
    );
    assert_eq!(c.meetings.len(), 1);
    let m = &c.meetings[0];
    assert_eq!(m.meeting_id, id("M1"));
    assert_eq!(
        (m.members_present, m.proxies, m.minutes_approved),
        (2, 1, true)
    );
    assert_eq!(m.resolutions.len(), 1);
    let r = &m.resolutions[0];
    assert_eq!(r.resolution_id, id("R"));
    assert_eq!(r.status, pb::ResolutionStatus::Adopted as i32);
    assert_eq!(r.ballots, 3);
    // One admitted member per college: L1 40, B1 30, T1 30 = 100, all present
    // or represented; for L1 40 + T1 30 (proxy) = 70, against B1 30.
    let tally = r.tally.clone().unwrap();
    assert_eq!(tally.total_rights, whole(100));
    assert_eq!(tally.present_or_represented, whole(100));
    assert!(tally.quorum_reached && tally.majority_reached);
    assert_eq!(
        (tally.votes_for, tally.votes_against, tally.abstentions),
        (whole(70), whole(30), whole(0))
    );
    assert_eq!(
        (
            tally.count_for,
            tally.count_against,
            tally.members_present,
            tally.members_represented
        ),
        (2, 1, 2, 1)
    );
    // K1 due day 60 (2026-04-30, past), 40 %: overdue; K2 due 2030, completed.
    let commitments: Vec<_> = c
        .commitments
        .iter()
        .map(|k| (k.commitment_id.clone(), k.status, k.percent, k.overdue))
        .collect();
    assert_eq!(
        commitments,
        [
            (id("K1"), pb::CommitmentStatus::Open as i32, 40, true),
            (id("K2"), pb::CommitmentStatus::Completed as i32, 100, false),
        ]
    );
    assert_eq!(c.overdue_commitment_ids, [id("K1")]);
}

/// Runs the scenario, waits for the projections, queries and checks them;
/// also checks that a replay `as_of` now answers like the live read models.
async fn run_and_check(clients: &mut Clients) -> (Outcome, Answers) {
    let out = scenario::run(clients).await.expect("scenario");
    assert_eq!(out.heads.len(), 3, "{:?}", out.heads);
    scenario::wait_for_projections(clients, &out.heads, CATCH_UP_TIMEOUT)
        .await
        .expect("projections catch up");
    let answers = scenario::query(clients, &out).await.expect("queries");
    check(&answers, &out);

    // A report by replay of the source logs as of now gives the live figures.
    let now = prost_types::Timestamp::from(std::time::SystemTime::now());
    let token = clients.tokens.of(Role::Analyst).to_owned();
    let mut replayed = clients
        .projections
        .get_territory_engagement(bearer(&token, territory_request(Some(now))).unwrap())
        .await
        .expect("as_of report")
        .into_inner();
    assert_eq!(replayed.as_of, Some(now));
    replayed.as_of = None;
    assert_eq!(replayed, answers.territory);
    (out, answers)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn separate_processes_over_nats_answer_the_hand_computed_figures() {
    let secrets_dir = tempfile::tempdir().unwrap();
    let secrets = Secrets::create(secrets_dir.path()).unwrap();
    let processes = Processes::start(&secrets).await.expect("processes start");
    let mut clients = Clients::connect(processes.endpoints(), &secrets.tokens)
        .await
        .unwrap();
    let (out, _) = run_and_check(&mut clients).await;

    // A rebuild from position 1 of the three logs (read over gRPC) gives the same.
    let heads = scenario::checkpoints(&mut clients).await.unwrap();
    let token = clients.tokens.of(Role::Admin).to_owned();
    let rebuilt = clients
        .projections
        .rebuild(bearer(&token, pb::ProjectionRebuildRequest {}).unwrap())
        .await
        .expect("rebuild")
        .into_inner();
    assert_eq!(rebuilt.events_replayed, heads.values().sum::<u64>());

    erasure_completes_across_processes(&mut clients).await;
    axes_reach_stakeholders_and_governance_across_processes(&mut clients, &out).await;

    drop(clients);
    let statuses = processes.stop().await.expect("processes stop");
    assert_eq!(statuses.len(), 4);
    for (name, status) in statuses {
        assert!(
            status.success(),
            "{name} exited with {status} after SIGTERM"
        );
    }
}

/// The programme's axes with the services apart (issue 14): an axis defined
/// in engagement reaches the replicas of stakeholders and governance through
/// JetStream (durables `stakeholders-programme`, `governance-programme`); a
/// contact and a commitment tagged with it that carry the definition's
/// position are accepted once the replica has caught up (`UNAVAILABLE`
/// before: retried), and an unknown axis is refused.
async fn axes_reach_stakeholders_and_governance_across_processes(
    clients: &mut Clients,
    out: &Outcome,
) {
    let token = clients.tokens.of(Role::Admin).to_owned();
    let axis = clients
        .engagement
        .define_programme_axis(
            bearer(
                &token,
                pb::DefineProgrammeAxisRequest {
                    request_id: "e2e-axis".into(),
                    name: "Concerter les acteurs".into(),
                    ..Default::default()
                },
            )
            .unwrap(),
        )
        .await
        .expect("define an axis")
        .into_inner();
    let person = clients
        .stakeholders
        .register_person(
            bearer(
                &token,
                pb::RegisterPersonRequest {
                    request_id: "e2e-axis-person".into(),
                    profile: Some(pb::PersonProfile {
                        given_name: "Lucie".into(),
                        family_name: "Ferry".into(),
                        kinds: vec![pb::PersonKind::Inhabitant as i32],
                        commune_code: SAINTE_CROIX.into(),
                        ..Default::default()
                    }),
                    mandates: vec![],
                },
            )
            .unwrap(),
        )
        .await
        .expect("register")
        .into_inner();
    let contact = |axis_id: &str| {
        let mut request = bearer(
            &token,
            pb::LogInteractionRequest {
                request_id: format!("e2e-axis-contact-{axis_id}"),
                participant_ids: vec![person.id.clone()],
                channel: pb::InteractionChannel::Phone as i32,
                direction: pb::InteractionDirection::Outbound as i32,
                occurred_at: Some(std::time::SystemTime::now().into()),
                subject: "Concertation".into(),
                axis_ids: vec![axis_id.to_owned()],
                ..Default::default()
            },
        )
        .unwrap();
        request.metadata_mut().insert(
            "maillage-after",
            format!("engagement={}", axis.position).parse().unwrap(),
        );
        request
    };
    let mut logged = None;
    for _ in 0..50 {
        match clients
            .stakeholders
            .log_interaction(contact(&axis.id))
            .await
        {
            Ok(reply) => {
                logged = Some(reply.into_inner());
                break;
            }
            Err(status) if status.code() == tonic::Code::Unavailable => {}
            Err(status) => panic!("log a tagged contact: {status:?}"),
        }
    }
    let logged = logged.expect("the programme replica caught up");
    let read = clients
        .stakeholders
        .get_interaction(
            bearer(
                &token,
                pb::GetInteractionRequest {
                    interaction_id: logged.id,
                },
            )
            .unwrap(),
        )
        .await
        .expect("read the contact")
        .into_inner();
    assert_eq!(read.axis_ids, vec![axis.id.clone()]);
    let unknown = "0190a000-0000-7000-8000-00000000a415";
    let status = clients
        .stakeholders
        .log_interaction(contact(unknown))
        .await
        .expect_err("an unknown axis");
    assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
    assert!(status.message().starts_with("axis_ids[0]:"), "{status:?}");

    let secretary = clients.tokens.of(Role::Secretary).to_owned();
    let mut commitment = bearer(
        &secretary,
        pb::MakeCommitmentRequest {
            request_id: "e2e-axis-commitment".into(),
            consortium_id: out.id("C1"),
            title: "Réunir les acteurs chaque trimestre".into(),
            owner_member_id: out.id("T1"),
            due_at: Some(std::time::SystemTime::now().into()),
            topic: pb::Theme::Governance as i32,
            origin: Some(pb::make_commitment_request::Origin::Resolution(
                pb::ResolutionRef {
                    meeting_id: out.id("M1"),
                    resolution_id: out.id("R"),
                },
            )),
            axis_ids: vec![axis.id.clone()],
            ..Default::default()
        },
    )
    .unwrap();
    commitment.metadata_mut().insert(
        "maillage-after",
        format!("engagement={}", axis.position).parse().unwrap(),
    );
    let mut made = None;
    for _ in 0..50 {
        match clients
            .governance
            .make_commitment(clone_request(&commitment))
            .await
        {
            Ok(reply) => {
                made = Some(reply.into_inner());
                break;
            }
            Err(status) if status.code() == tonic::Code::Unavailable => {}
            Err(status) => panic!("make a tagged commitment: {status:?}"),
        }
    }
    let made = made.expect("the programme replica caught up");
    let view = clients
        .governance
        .get_commitment(
            bearer(
                &secretary,
                pb::GetCommitmentRequest {
                    commitment_id: made.id,
                },
            )
            .unwrap(),
        )
        .await
        .expect("read the commitment")
        .into_inner();
    assert_eq!(view.axis_ids, vec![axis.id.clone()]);
}

/// The erasure saga with the services apart: engagement learns of the
/// erasure from JetStream, destroys the interview's key and records its part;
/// stakeholders learns of that from JetStream and completes the erasure.
async fn erasure_completes_across_processes(clients: &mut Clients) {
    let token = clients.tokens.of(Role::Admin).to_owned();
    let registered = clients
        .stakeholders
        .register_person(
            bearer(
                &token,
                pb::RegisterPersonRequest {
                    request_id: "e2e-erasure-person".into(),
                    profile: Some(pb::PersonProfile {
                        given_name: "Irène".into(),
                        family_name: "Vasseur".into(),
                        kinds: vec![pb::PersonKind::Inhabitant as i32],
                        commune_code: SAINTE_CROIX.into(),
                        ..Default::default()
                    }),
                    mandates: vec![],
                },
            )
            .unwrap(),
        )
        .await
        .expect("register")
        .into_inner();
    let mut interview = bearer(
        &token,
        pb::RecordInterviewRequest {
            request_id: "e2e-erasure-interview".into(),
            subject: Some(pb::InterviewSubject {
                who: Some(pb::interview_subject::Who::StakeholderId(
                    registered.id.clone(),
                )),
            }),
            conducted_at: Some(std::time::SystemTime::now().into()),
            notes: "souhaite un fablab".into(),
            ..Default::default()
        },
    )
    .unwrap();
    interview.metadata_mut().insert(
        "maillage-after",
        format!("stakeholders={}", registered.position)
            .parse()
            .unwrap(),
    );
    // The replica follows JetStream: retry while it has not caught up.
    let mut recorded = None;
    for _ in 0..50 {
        match clients
            .engagement
            .record_interview(clone_request(&interview))
            .await
        {
            Ok(reply) => {
                recorded = Some(reply.into_inner());
                break;
            }
            Err(status) if status.code() == tonic::Code::Unavailable => {}
            Err(status) => panic!("record interview: {status:?}"),
        }
    }
    let recorded = recorded.expect("the register replica caught up");
    clients
        .stakeholders
        .erase_person(
            bearer(
                &token,
                pb::ErasePersonRequest {
                    request_id: "e2e-erasure".into(),
                    stakeholder_id: registered.id.clone(),
                    expected_version: None,
                    reason: "RGPD art. 17".into(),
                },
            )
            .unwrap(),
        )
        .await
        .expect("erase");
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let status = clients
            .stakeholders
            .get_erasure(
                bearer(
                    &token,
                    pb::GetErasureRequest {
                        stakeholder_id: registered.id.clone(),
                    },
                )
                .unwrap(),
            )
            .await
            .expect("get erasure")
            .into_inner();
        if status.state == pb::ErasureState::Completed as i32 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the erasure did not complete across processes: {status:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let view = clients
        .engagement
        .get_interview(
            bearer(
                &token,
                pb::GetInterviewRequest {
                    interview_id: recorded.id,
                },
            )
            .unwrap(),
        )
        .await
        .expect("get interview")
        .into_inner();
    assert!(view.notes_erased && view.notes.is_empty(), "{view:?}");
}

fn clone_request<T: Clone>(request: &tonic::Request<T>) -> tonic::Request<T> {
    let mut copy = tonic::Request::new(request.get_ref().clone());
    *copy.metadata_mut() = request.metadata().clone();
    copy
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_process_on_the_direct_feed_gives_the_same_answers() {
    let secrets_dir = tempfile::tempdir().unwrap();
    let secrets = Secrets::create(secrets_dir.path()).unwrap();

    let platform = InProcess::start(&secrets).await.unwrap();
    let mut clients = Clients::connect(&platform.endpoints(), &secrets.tokens)
        .await
        .unwrap();
    let (one_out, one) = run_and_check(&mut clients).await;
    drop(clients);
    platform.stop().await.expect("the platform stops cleanly");

    let processes = Processes::start(&secrets).await.expect("processes start");
    let mut clients = Clients::connect(processes.endpoints(), &secrets.tokens)
        .await
        .unwrap();
    let (many_out, many) = run_and_check(&mut clients).await;
    drop(clients);
    processes.stop().await.expect("processes stop");

    // Same positions in every log, and the same answers once ids are named.
    assert_eq!(one_out.heads, many_out.heads);
    let (one, many) = (one.normalized(&one_out), many.normalized(&many_out));
    if one != many {
        for (line, (a, b)) in one.lines().zip(many.lines()).enumerate() {
            assert_eq!(a, b, "first difference at line {line}");
        }
    }
    assert_eq!(one, many);
}
