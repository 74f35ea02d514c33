//! The governance service through a real gRPC client, on a real sled directory:
//! a full meeting with a weighted vote, the bad inputs (right status,
//! field named, log unchanged), retries, and a restart reading everything back.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;

use std::collections::BTreeMap;

use common::{with_token, Client, Harness, Role, Running};
use maillage_proto::v1 as pv1;
use maillage_replica::OrganisationType;
use tonic::Code;
use uuid::Uuid;

/// The example consortium, as ids.
struct Example {
    consortium: String,
    members: BTreeMap<&'static str, String>,
}

impl Example {
    fn m(&self, name: &str) -> String {
        self.members[name].clone()
    }
}

fn rid() -> String {
    Uuid::now_v7().to_string()
}

fn whole(n: u64) -> Option<pv1::WeightRatio> {
    Some(pv1::WeightRatio {
        numerator: n.to_string(),
        denominator: "1".into(),
    })
}

/// Founds the consortium of the Aude: colleges collectivités 40, entreprises 30,
/// associations 20, tiers-lieux 10; members a1 a2 / b1 b2 b3 / c1..c4 / d1
/// (each weighing 20 / 10 / 5 / 10); general assembly `ag` of all four,
/// quorum 1/2, simple majority, one proxy per member.
async fn example(client: &mut Client) -> Example {
    let founder = client.organisation(OrganisationType::LocalAuthority).await;
    let founded = client
        .governance
        .found_consortium(client.req(pv1::FoundConsortiumRequest {
            request_id: rid(),
            name: "Consortium des tiers-lieux de l'Aude".into(),
            founding_collectivite_id: founder,
            territory: vec![pv1::TerritoryRef {
                level: pv1::TerritoryLevel::Departement as i32,
                code: "11".into(),
            }],
            purpose: "Animer le réseau des tiers-lieux".into(),
            charter: "Charte du consortium".into(),
        }))
        .await
        .expect("found")
        .into_inner();
    let consortium = founded.id.clone();
    for (code, weight) in [
        ("collectivites", 40),
        ("entreprises", 30),
        ("associations", 20),
        ("tiers-lieux", 10),
    ] {
        client
            .governance
            .define_college(client.req(pv1::DefineCollegeRequest {
                request_id: rid(),
                consortium_id: consortium.clone(),
                expected_version: None,
                college_code: code.into(),
                name: code.to_uppercase(),
                weight,
            }))
            .await
            .expect("college");
    }
    client
        .governance
        .establish_body(client.req(body_request(
            &consortium,
            "ag",
            (1, 2),
            &[
                "collectivites",
                "entreprises",
                "associations",
                "tiers-lieux",
            ],
        )))
        .await
        .expect("body");
    let mut members = BTreeMap::new();
    for (name, college) in [
        ("a1", "collectivites"),
        ("a2", "collectivites"),
        ("b1", "entreprises"),
        ("b2", "entreprises"),
        ("b3", "entreprises"),
        ("c1", "associations"),
        ("c2", "associations"),
        ("c3", "associations"),
        ("c4", "associations"),
        ("d1", "tiers-lieux"),
    ] {
        let id = client.organisation(OrganisationType::Association).await;
        client
            .governance
            .apply_for_membership(client.req(pv1::ApplyForMembershipRequest {
                request_id: rid(),
                consortium_id: consortium.clone(),
                expected_version: None,
                organisation_id: id.clone(),
                college_code: college.into(),
            }))
            .await
            .expect("apply");
        client
            .governance
            .admit_member(client.req(pv1::AdmitMemberRequest {
                request_id: rid(),
                consortium_id: consortium.clone(),
                expected_version: None,
                member_id: id.clone(),
            }))
            .await
            .expect("admit");
        members.insert(name, id);
    }
    Example {
        consortium,
        members,
    }
}

fn body_request(
    consortium: &str,
    code: &str,
    quorum: (u64, u64),
    colleges: &[&str],
) -> pv1::EstablishBodyRequest {
    pv1::EstablishBodyRequest {
        request_id: rid(),
        consortium_id: consortium.into(),
        expected_version: None,
        body_code: code.into(),
        kind: pv1::BodyKind::GeneralAssembly as i32,
        name: "Assemblée générale".into(),
        college_codes: colleges.iter().map(|c| c.to_string()).collect(),
        rules: Some(pv1::BodyRules {
            quorum: Some(pv1::ShareFraction {
                numerator: quorum.0,
                denominator: quorum.1,
            }),
            majority: pv1::MajorityRule::Simple as i32,
            max_proxies_per_member: 1,
        }),
    }
}

async fn convene(client: &mut Client, consortium: &str) -> String {
    client
        .governance
        .convene_meeting(client.req(pv1::ConveneMeetingRequest {
            request_id: rid(),
            consortium_id: consortium.into(),
            body_code: "ag".into(),
            scheduled_at: Some(prost_types::Timestamp {
                seconds: 1_790_000_000,
                nanos: 0,
            }),
            venue: Some(pv1::MeetingVenue {
                commune_code: "11069".into(),
                place: "La Fabrique, Carcassonne".into(),
                online: false,
            }),
            agenda: vec!["Plan d'action 2026".into(), "Questions diverses".into()],
        }))
        .await
        .expect("convene")
        .into_inner()
        .id
}

async fn attend(
    client: &mut Client,
    meeting: &str,
    present: &[String],
    proxies: &[(String, String)],
) -> Result<pv1::CommandReply, tonic::Status> {
    client
        .governance
        .record_meeting_attendance(
            client.req(pv1::RecordMeetingAttendanceRequest {
                request_id: rid(),
                meeting_id: meeting.into(),
                expected_version: None,
                present_member_ids: present.to_vec(),
                proxies: proxies
                    .iter()
                    .map(|(giver, holder)| pv1::ProxyGrant {
                        giver_id: giver.clone(),
                        holder_id: holder.clone(),
                    })
                    .collect(),
            }),
        )
        .await
        .map(|r| r.into_inner())
}

async fn table(
    client: &mut Client,
    meeting: &str,
    request_id: &str,
) -> pv1::TableResolutionResponse {
    client
        .governance
        .table_resolution(client.req(pv1::TableResolutionRequest {
            request_id: request_id.into(),
            meeting_id: meeting.into(),
            expected_version: None,
            agenda_item: 1,
            title: "Adoption du plan d'action".into(),
            text: "Le consortium adopte le plan d'action 2026.".into(),
        }))
        .await
        .expect("table")
        .into_inner()
}

async fn vote(
    client: &mut Client,
    meeting: &str,
    resolution: &str,
    member: &str,
    choice: pv1::VoteChoice,
) -> Result<pv1::CommandReply, tonic::Status> {
    client
        .governance
        .record_vote(client.req(pv1::RecordVoteRequest {
            request_id: rid(),
            meeting_id: meeting.into(),
            expected_version: None,
            resolution_id: resolution.into(),
            member_id: member.into(),
            choice: choice as i32,
        }))
        .await
        .map(|r| r.into_inner())
}

/// Asserts a refusal: its code, that its message names `field`, and that the log did not move.
async fn refused<T: std::fmt::Debug>(
    client: &mut Client,
    before: u64,
    result: Result<T, tonic::Status>,
    code: Code,
    field: &str,
) {
    let status = result.expect_err("refused");
    assert_eq!(status.code(), code, "{status:?}");
    assert!(
        status.message().contains(field),
        "{field} not named in {:?}",
        status.message()
    );
    assert_eq!(
        client.head().await,
        before,
        "the log moved after {status:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_meeting_with_a_weighted_vote_survives_a_restart() {
    let harness = Harness::new();
    let running = harness.start().await;
    let mut client = Client::new(&running, &harness.tokens).await;
    let ex = example(&mut client).await;
    let meeting = convene(&mut client, &ex.consortium).await;

    // Present a1 (20), b1 (10), b2 (10), c1 (5); c2 (5) represented by c1: 50 of 100 ≥ 1/2.
    attend(
        &mut client,
        &meeting,
        &[ex.m("a1"), ex.m("b1"), ex.m("b2"), ex.m("c1")],
        &[(ex.m("c2"), ex.m("c1"))],
    )
    .await
    .expect("attendance");
    let tabled = table(&mut client, &meeting, "table-r1").await;
    let resolution = tabled.resolution_id.clone();
    // For a1 20 + c2 5 = 25; against b1 + b2 = 20; abstain c1 5 → simple majority 25 > 20: adopted.
    for (member, choice) in [
        ("a1", pv1::VoteChoice::For),
        ("c2", pv1::VoteChoice::For),
        ("b1", pv1::VoteChoice::Against),
        ("b2", pv1::VoteChoice::Against),
        ("c1", pv1::VoteChoice::Abstain),
    ] {
        vote(&mut client, &meeting, &resolution, &ex.m(member), choice)
            .await
            .expect("vote");
    }
    let closed = client
        .governance
        .close_vote(client.req(pv1::CloseVoteRequest {
            request_id: rid(),
            meeting_id: meeting.clone(),
            expected_version: None,
            resolution_id: resolution.clone(),
        }))
        .await
        .expect("close")
        .into_inner();
    assert_eq!(closed.outcome, pv1::ResolutionStatus::Adopted as i32);
    let tally = closed.tally.expect("tally");
    assert_eq!(tally.total_rights, whole(100));
    assert_eq!(tally.present_or_represented, whole(50));
    assert!(tally.quorum_reached);
    assert_eq!(
        (tally.votes_for, tally.votes_against, tally.abstentions),
        (whole(25), whole(20), whole(5))
    );
    let by_proxy = tally
        .ballots
        .iter()
        .find(|b| b.member_id == ex.m("c2"))
        .expect("c2's ballot");
    assert_eq!(by_proxy.proxy_holder_id, ex.m("c1"));

    // A commitment from the adopted resolution, owned by d1, with progress then completion.
    let commitment = client
        .governance
        .make_commitment(client.req(pv1::MakeCommitmentRequest {
            axis_ids: Default::default(),
            topic: Default::default(),
            request_id: rid(),
            consortium_id: ex.consortium.clone(),
            title: "Ouvrir un tiers-lieu à Limoux".into(),
            owner_member_id: ex.m("d1"),
            due_at: Some(prost_types::Timestamp {
                seconds: 1_000_000_000,
                nanos: 0,
            }),
            theme: "quels-tla".into(),
            origin: Some(pv1::make_commitment_request::Origin::Resolution(
                pv1::ResolutionRef {
                    meeting_id: meeting.clone(),
                    resolution_id: resolution.clone(),
                },
            )),
        }))
        .await
        .expect("commitment")
        .into_inner();
    themes_of_commitments(&mut client, &ex, &meeting, &resolution, &commitment.id).await;
    let progress = client
        .governance
        .report_commitment_progress(client.req(pv1::ReportCommitmentProgressRequest {
            request_id: rid(),
            commitment_id: commitment.id.clone(),
            expected_version: Some(commitment.version),
            percent: 60,
            note: "local trouvé".into(),
        }))
        .await
        .expect("progress")
        .into_inner();
    assert_eq!(progress.version, 2);
    client
        .governance
        .approve_meeting_minutes(client.req(pv1::ApproveMeetingMinutesRequest {
            request_id: rid(),
            meeting_id: meeting.clone(),
            expected_version: None,
            minutes_uri: "https://archives.aude.example/pv/ag-2026.pdf".into(),
            minutes_digest: "sha256:4f2a".into(),
        }))
        .await
        .expect("minutes");

    // Reads, by an analyst.
    let analyst = harness.tokens.of(Role::Analyst).to_string();
    let read = |client: &mut Client| {
        let (consortium, meeting, commitment) = (
            ex.consortium.clone(),
            meeting.clone(),
            commitment.id.clone(),
        );
        let mut governance = client.governance.clone();
        let analyst = analyst.clone();
        async move {
            let c = governance
                .get_consortium(with_token(
                    &analyst,
                    pv1::GetConsortiumRequest {
                        consortium_id: consortium,
                    },
                ))
                .await
                .expect("consortium")
                .into_inner();
            let m = governance
                .get_meeting(with_token(
                    &analyst,
                    pv1::GetMeetingRequest {
                        meeting_id: meeting,
                    },
                ))
                .await
                .expect("meeting")
                .into_inner();
            let k = governance
                .get_commitment(with_token(
                    &analyst,
                    pv1::GetCommitmentRequest {
                        commitment_id: commitment,
                    },
                ))
                .await
                .expect("commitment")
                .into_inner();
            (c, m, k)
        }
    };
    let before = read(&mut client).await;
    let (consortium_view, meeting_view, commitment_view) = before.clone();
    assert_eq!(consortium_view.colleges.len(), 4);
    let associations = consortium_view
        .colleges
        .iter()
        .find(|c| c.college_code == "associations")
        .unwrap();
    assert_eq!(associations.members.len(), 4);
    assert_eq!(
        meeting_view.resolutions[0].status,
        pv1::ResolutionStatus::Adopted as i32
    );
    assert_eq!(meeting_view.resolutions[0].votes.len(), 5);
    assert!(meeting_view.minutes_approved);
    assert_eq!(
        (commitment_view.percent, commitment_view.overdue),
        (60, true),
        "due in 2001, open"
    );
    let head = client.head().await;

    // Restart on the same directory: everything reads back the same.
    drop(client);
    running.stop().await;
    let running = harness.start().await;
    let mut client = Client::new(&running, &harness.tokens).await;
    assert_eq!(client.head().await, head);
    let after = read(&mut client).await;
    assert_eq!(after, before);
    // A retried request is answered from the log, across the restart.
    let again = table(&mut client, &meeting, "table-r1").await;
    assert_eq!(again.resolution_id, tabled.resolution_id);
    assert_eq!(again.reply, tabled.reply);
    assert_eq!(client.head().await, head);
    running.stop().await;
}

/// Issue 13: while a vote is open, the meeting view carries the tally of the
/// ballots so far, counted as closing now would count them (nothing is
/// recorded); once closed, only the recorded tally.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_vote_shows_its_running_tally_ballot_by_ballot() {
    let harness = Harness::new();
    let running = harness.start().await;
    let mut client = Client::new(&running, &harness.tokens).await;
    let ex = example(&mut client).await;
    let meeting = convene(&mut client, &ex.consortium).await;
    attend(
        &mut client,
        &meeting,
        &[ex.m("a1"), ex.m("b1"), ex.m("b2"), ex.m("c1")],
        &[(ex.m("c2"), ex.m("c1"))],
    )
    .await
    .expect("attendance");
    let resolution = table(&mut client, &meeting, &rid()).await.resolution_id;
    let running_tally = |client: &mut Client| {
        let mut governance = client.governance.clone();
        let request = client.req(pv1::GetMeetingRequest {
            meeting_id: meeting.clone(),
        });
        async move {
            let view = governance.get_meeting(request).await.unwrap().into_inner();
            let resolution = view.resolutions[0].clone();
            (resolution.running_tally, resolution.tally)
        }
    };
    let (tally, closed) = running_tally(&mut client).await;
    let tally = tally.expect("a running tally before any ballot");
    assert!(closed.is_none());
    assert_eq!((tally.votes_cast, tally.ballots.len()), (whole(0), 0));
    assert_eq!(tally.present_or_represented, whole(50));
    let head = client.head().await;
    // Ballot by ballot: for a1 (20), against b1 (10), for c2 (5, by proxy).
    for (member, choice, expected) in [
        ("a1", pv1::VoteChoice::For, (20, 0, false)),
        ("b1", pv1::VoteChoice::Against, (20, 10, false)),
        ("c2", pv1::VoteChoice::For, (25, 10, true)),
    ] {
        vote(&mut client, &meeting, &resolution, &ex.m(member), choice)
            .await
            .expect("vote");
        let tally = running_tally(&mut client).await.0.expect("running tally");
        assert_eq!(
            (tally.votes_for, tally.votes_against),
            (whole(expected.0), whole(expected.1)),
            "after {member}"
        );
        assert!(tally.majority_reached, "for leads after {member}");
        assert_eq!(
            tally
                .ballots
                .iter()
                .any(|ballot| !ballot.proxy_holder_id.is_empty()),
            expected.2
        );
    }
    assert_eq!(client.head().await, head + 3, "reading records nothing");
    let closed = client
        .governance
        .close_vote(client.req(pv1::CloseVoteRequest {
            request_id: rid(),
            meeting_id: meeting.clone(),
            expected_version: None,
            resolution_id: resolution.clone(),
        }))
        .await
        .expect("close")
        .into_inner();
    let (tally, recorded) = running_tally(&mut client).await;
    assert!(tally.is_none(), "no running tally once closed");
    assert_eq!(recorded, closed.tally);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_creation_lands_on_the_same_stream() {
    let harness = Harness::new();
    let running = harness.start().await;
    let mut client = Client::new(&running, &harness.tokens).await;
    let request = pv1::FoundConsortiumRequest {
        request_id: "found-once".into(),
        name: "Consortium".into(),
        founding_collectivite_id: client.organisation(OrganisationType::LocalAuthority).await,
        territory: vec![pv1::TerritoryRef {
            level: pv1::TerritoryLevel::Epci as i32,
            code: "200035715".into(),
        }],
        purpose: "Tiers-lieux".into(),
        charter: String::new(),
    };
    let first = client
        .governance
        .found_consortium(client.req(request.clone()))
        .await
        .expect("found")
        .into_inner();
    let head = client.head().await;
    let second = client
        .governance
        .found_consortium(client.req(request))
        .await
        .expect("retry")
        .into_inner();
    assert_eq!(first, second);
    assert_eq!(client.head().await, head, "the retry wrote nothing");
    running.stop().await;
}

/// What the bad-input tests start from: the example consortium, a meeting
/// with its attendance and a resolution with one vote, and the log's head then
/// (each refusal checks that the log did not move).
struct Refusals {
    harness: Harness,
    running: Running,
    client: Client,
    ex: Example,
    meeting: String,
    resolution: String,
    before: u64,
    consortium: String,
}

async fn refusals() -> Refusals {
    let harness = Harness::new();
    let running = harness.start().await;
    let mut client = Client::new(&running, &harness.tokens).await;
    let ex = example(&mut client).await;
    let meeting = convene(&mut client, &ex.consortium).await;
    attend(
        &mut client,
        &meeting,
        &[ex.m("a1"), ex.m("b1")],
        &[(ex.m("c1"), ex.m("a1"))],
    )
    .await
    .expect("attendance");
    let resolution = table(&mut client, &meeting, &rid()).await.resolution_id;
    vote(
        &mut client,
        &meeting,
        &resolution,
        &ex.m("a1"),
        pv1::VoteChoice::For,
    )
    .await
    .expect("vote");
    let before = client.head().await;
    let consortium = ex.consortium.clone();
    Refusals {
        harness,
        running,
        client,
        ex,
        meeting,
        resolution,
        before,
        consortium,
    }
}

/// Applications and bodies out of the rules (an unknown college, a weight
/// ≤ 0, a quorum outside (0, 1], a duplicate membership) are refused, the
/// field named, and the log does not move.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn membership_and_body_inputs_out_of_the_rules_are_refused() {
    let Refusals {
        harness: _harness,
        running,
        mut client,
        ex,
        meeting: _meeting,
        resolution: _resolution,
        before,
        consortium,
    } = refusals().await;
    // Unknown college, on an application and in a body's composition.
    let applicant = client.organisation(OrganisationType::Business).await;
    let r = client
        .governance
        .apply_for_membership(client.req(pv1::ApplyForMembershipRequest {
            request_id: rid(),
            consortium_id: consortium.clone(),
            expected_version: None,
            organisation_id: applicant,
            college_code: "chambres".into(),
        }))
        .await;
    refused(
        &mut client,
        before,
        r,
        Code::InvalidArgument,
        "college_code",
    )
    .await;
    let r = client
        .governance
        .establish_body(client.req(body_request(&consortium, "copil", (1, 2), &["chambres"])))
        .await;
    refused(
        &mut client,
        before,
        r,
        Code::InvalidArgument,
        "college_codes[0]",
    )
    .await;

    // Weights ≤ 0.
    for weight in [0, -5] {
        let r = client
            .governance
            .define_college(client.req(pv1::DefineCollegeRequest {
                request_id: rid(),
                consortium_id: consortium.clone(),
                expected_version: None,
                college_code: "chambres".into(),
                name: "Chambres".into(),
                weight,
            }))
            .await;
        refused(&mut client, before, r, Code::InvalidArgument, "weight").await;
    }

    // Quorum outside (0, 1].
    for quorum in [(0, 2), (3, 2), (1, 0)] {
        let r = client
            .governance
            .establish_body(client.req(body_request(
                &consortium,
                "copil",
                quorum,
                &["collectivites"],
            )))
            .await;
        refused(
            &mut client,
            before,
            r,
            Code::InvalidArgument,
            "rules.quorum",
        )
        .await;
    }

    // Duplicate membership.
    let r = client
        .governance
        .apply_for_membership(client.req(pv1::ApplyForMembershipRequest {
            request_id: rid(),
            consortium_id: consortium.clone(),
            expected_version: None,
            organisation_id: ex.m("b2"),
            college_code: "entreprises".into(),
        }))
        .await;
    refused(&mut client, before, r, Code::AlreadyExists, &ex.m("b2")).await;
    running.stop().await;
}

/// A vote by a non-member, a double vote and proxy chains are refused, the
/// field named, and the log does not move.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn votes_and_proxies_out_of_the_rules_are_refused() {
    let Refusals {
        harness: _harness,
        running,
        mut client,
        ex,
        meeting,
        resolution,
        before,
        consortium: _consortium,
    } = refusals().await;
    // Vote by a non-member, and a double vote.
    let stranger = Uuid::now_v7().to_string();
    let r = vote(
        &mut client,
        &meeting,
        &resolution,
        &stranger,
        pv1::VoteChoice::For,
    )
    .await;
    refused(
        &mut client,
        before,
        r,
        Code::FailedPrecondition,
        "member_id",
    )
    .await;
    let r = vote(
        &mut client,
        &meeting,
        &resolution,
        &ex.m("a1"),
        pv1::VoteChoice::Against,
    )
    .await;
    refused(
        &mut client,
        before,
        r,
        Code::FailedPrecondition,
        "member_id",
    )
    .await;
    // Issue 13: the refusal comes with its French wording for a person; the
    // English message is unchanged.
    let again = vote(
        &mut client,
        &meeting,
        &resolution,
        &ex.m("a1"),
        pv1::VoteChoice::Against,
    )
    .await
    .unwrap_err();
    assert_eq!(
        again.message(),
        format!(
            "member_id: {} has already voted on resolution {resolution}",
            ex.m("a1")
        )
    );
    let localized =
        tonic_types::StatusExt::get_details_localized_message(&again).expect("a LocalizedMessage");
    assert_eq!(localized.locale, "fr-FR");
    assert_eq!(
        localized.message,
        format!("{} a déjà voté sur la résolution {resolution}.", ex.m("a1"))
    );

    // Proxy chains: b2 → c1, where c1 gave its proxy to a1; and in one request.
    let r = attend(&mut client, &meeting, &[], &[(ex.m("b2"), ex.m("c1"))]).await;
    refused(
        &mut client,
        before,
        r,
        Code::FailedPrecondition,
        "proxies[0].holder_id",
    )
    .await;
    let r = attend(
        &mut client,
        &meeting,
        &[],
        &[(ex.m("c2"), ex.m("c3")), (ex.m("c3"), ex.m("b1"))],
    )
    .await;
    refused(
        &mut client,
        before,
        r,
        Code::FailedPrecondition,
        "proxies[0].holder_id",
    )
    .await;
    running.stop().await;
}

/// A stale expected version is ABORTED with the actual one; malformed ids,
/// an unknown territory and a percentage over 100 are INVALID_ARGUMENT naming
/// the field; and the log does not move.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_versions_malformed_ids_and_values_out_of_range_are_refused() {
    let Refusals {
        harness,
        running,
        mut client,
        ex,
        meeting: _meeting,
        resolution: _resolution,
        before,
        consortium,
    } = refusals().await;
    // Stale expected version: ABORTED with the actual version.
    let version = client
        .governance
        .get_consortium(with_token(
            harness.tokens.of(Role::Analyst),
            pv1::GetConsortiumRequest {
                consortium_id: consortium.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .version;
    let r = client
        .governance
        .admit_member(client.req(pv1::AdmitMemberRequest {
            request_id: rid(),
            consortium_id: consortium.clone(),
            expected_version: Some(version - 1),
            member_id: ex.m("a1"),
        }))
        .await;
    refused(
        &mut client,
        before,
        r,
        Code::Aborted,
        &format!("actual {version}"),
    )
    .await;

    // Malformed ids, an unknown territory, a percentage over 100.
    let r = client
        .governance
        .admit_member(client.req(pv1::AdmitMemberRequest {
            request_id: rid(),
            consortium_id: "not-a-uuid".into(),
            expected_version: None,
            member_id: ex.m("a1"),
        }))
        .await;
    refused(
        &mut client,
        before,
        r,
        Code::InvalidArgument,
        "consortium_id",
    )
    .await;
    let r = client
        .governance
        .found_consortium(client.req(pv1::FoundConsortiumRequest {
            request_id: rid(),
            name: "X".into(),
            founding_collectivite_id: Uuid::now_v7().to_string(),
            territory: vec![pv1::TerritoryRef {
                level: pv1::TerritoryLevel::Commune as i32,
                code: "99999".into(),
            }],
            purpose: "Y".into(),
            charter: String::new(),
        }))
        .await;
    refused(
        &mut client,
        before,
        r,
        Code::InvalidArgument,
        "territory[0].code",
    )
    .await;
    let r = client
        .governance
        .report_commitment_progress(client.req(pv1::ReportCommitmentProgressRequest {
            request_id: rid(),
            commitment_id: Uuid::now_v7().to_string(),
            expected_version: None,
            percent: 101,
            note: String::new(),
        }))
        .await;
    refused(&mut client, before, r, Code::InvalidArgument, "percent").await;
    let r = client
        .governance
        .get_meeting(with_token(
            harness.tokens.of(Role::Analyst),
            pv1::GetMeetingRequest {
                meeting_id: Uuid::now_v7().to_string(),
            },
        ))
        .await;
    refused(&mut client, before, r, Code::NotFound, "meeting").await;
    running.stop().await;
}

/// A request without a token, or by a role that may not write or read, is
/// refused; the same request by the secretary goes through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callers_without_a_token_or_the_role_are_refused() {
    let Refusals {
        harness,
        running,
        mut client,
        ex: _ex,
        meeting: _meeting,
        resolution: _resolution,
        before,
        consortium,
    } = refusals().await;
    // Missing token, then a role that may not write, then one that may not read.
    let apply = pv1::ApplyForMembershipRequest {
        request_id: rid(),
        consortium_id: consortium.clone(),
        expected_version: None,
        organisation_id: client.organisation(OrganisationType::Business).await,
        college_code: "entreprises".into(),
    };
    let r = client
        .governance
        .apply_for_membership(with_token("", apply.clone()))
        .await;
    refused(&mut client, before, r, Code::Unauthenticated, "").await;
    let r = client
        .governance
        .apply_for_membership(with_token(harness.tokens.of(Role::Analyst), apply.clone()))
        .await;
    refused(&mut client, before, r, Code::PermissionDenied, "secretary").await;
    let r = client
        .governance
        .get_consortium(with_token(
            harness.tokens.of(Role::Tool),
            pv1::GetConsortiumRequest {
                consortium_id: consortium.clone(),
            },
        ))
        .await;
    refused(&mut client, before, r, Code::PermissionDenied, "analyst").await;

    // The same application by the secretary goes through: the refusals were about the caller.
    client
        .governance
        .apply_for_membership(client.req(apply))
        .await
        .expect("apply");
    assert_eq!(client.head().await, before + 1);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn references_are_checked_against_the_replicas() {
    let harness = Harness::new();
    let running = harness.start().await;
    let mut client = Client::new(&running, &harness.tokens).await;
    let ex = example(&mut client).await;
    let before = client.head().await;
    let business = client.organisation(OrganisationType::Business).await;
    let person = client.person().await;
    let unknown = Uuid::now_v7().to_string();
    let found = |founder: &str| pv1::FoundConsortiumRequest {
        request_id: rid(),
        name: "Consortium".into(),
        founding_collectivite_id: founder.into(),
        territory: vec![pv1::TerritoryRef {
            level: pv1::TerritoryLevel::Departement as i32,
            code: "11".into(),
        }],
        purpose: "Tiers-lieux".into(),
        charter: String::new(),
    };
    let r = client
        .governance
        .found_consortium(client.req(found(&business)))
        .await;
    refused(
        &mut client,
        before,
        r,
        Code::FailedPrecondition,
        "a collectivité",
    )
    .await;
    let r = client
        .governance
        .found_consortium(client.req(found(&unknown)))
        .await;
    refused(
        &mut client,
        before,
        r,
        Code::InvalidArgument,
        "founding_collectivite_id",
    )
    .await;

    let apply = |organisation: &str| pv1::ApplyForMembershipRequest {
        request_id: rid(),
        consortium_id: ex.consortium.clone(),
        expected_version: None,
        organisation_id: organisation.into(),
        college_code: "entreprises".into(),
    };
    let r = client
        .governance
        .apply_for_membership(client.req(apply(&person)))
        .await;
    refused(
        &mut client,
        before,
        r,
        Code::FailedPrecondition,
        "an organisation was expected",
    )
    .await;
    let r = client
        .governance
        .apply_for_membership(client.req(apply(&unknown)))
        .await;
    refused(
        &mut client,
        before,
        r,
        Code::InvalidArgument,
        "organisation_id",
    )
    .await;

    let appoint = |who: &str| pv1::AppointRepresentativeRequest {
        request_id: rid(),
        consortium_id: ex.consortium.clone(),
        expected_version: None,
        member_id: ex.m("b1"),
        person_id: who.into(),
    };
    let r = client
        .governance
        .appoint_representative(client.req(appoint(&business)))
        .await;
    refused(
        &mut client,
        before,
        r,
        Code::FailedPrecondition,
        "a person was expected",
    )
    .await;
    let r = client
        .governance
        .appoint_representative(client.req(appoint(&unknown)))
        .await;
    refused(&mut client, before, r, Code::InvalidArgument, "person_id").await;

    let commit = |outcome: &str| pv1::MakeCommitmentRequest {
        axis_ids: Default::default(),
        topic: Default::default(),
        request_id: rid(),
        consortium_id: ex.consortium.clone(),
        title: "Ouvrir un tiers-lieu".into(),
        owner_member_id: ex.m("b1"),
        due_at: Some(prost_types::Timestamp {
            seconds: 2_000_000_000,
            nanos: 0,
        }),
        theme: "quels-tla".into(),
        origin: Some(pv1::make_commitment_request::Origin::RoundtableOutcomeId(
            outcome.into(),
        )),
    };
    let from_workshop = client.outcome(pv1::ActionKind::ThematicWorkshop).await;
    let r = client
        .governance
        .make_commitment(client.req(commit(&from_workshop)))
        .await;
    refused(
        &mut client,
        before,
        r,
        Code::FailedPrecondition,
        "not from a roundtable",
    )
    .await;
    let r = client
        .governance
        .make_commitment(client.req(commit(&unknown)))
        .await;
    refused(
        &mut client,
        before,
        r,
        Code::InvalidArgument,
        "roundtable_outcome_id",
    )
    .await;

    // The right references go through.
    let from_roundtable = client.outcome(pv1::ActionKind::Roundtable).await;
    client
        .governance
        .make_commitment(client.req(commit(&from_roundtable)))
        .await
        .expect("a commitment from a roundtable outcome");
    client
        .governance
        .appoint_representative(client.req(appoint(&person)))
        .await
        .expect("a person as representative");
    client
        .governance
        .apply_for_membership(client.req(apply(&business)))
        .await
        .expect("a business applies");
    assert_eq!(client.head().await, before + 3);
    running.stop().await;
}

/// One vocabulary of themes (issue 11, item 5): a commitment's free-text theme
/// (from a client written before `topic`) is read as a `Theme`; a commitment
/// made with a `topic` alone is labelled in French; an unknown topic is refused.
async fn themes_of_commitments(
    client: &mut Client,
    ex: &Example,
    meeting: &str,
    resolution: &str,
    older: &str,
) {
    let get = |id: &str| pv1::GetCommitmentRequest {
        commitment_id: id.to_owned(),
    };
    let view = client
        .governance
        .get_commitment(client.req(get(older)))
        .await
        .expect("read")
        .into_inner();
    assert_eq!(
        (view.theme.as_str(), view.topic),
        ("quels-tla", pv1::Theme::QuelsTla as i32)
    );
    let request = |topic: i32| pv1::MakeCommitmentRequest {
        axis_ids: Default::default(),
        request_id: rid(),
        consortium_id: ex.consortium.clone(),
        title: "Chiffrer le modèle économique".into(),
        owner_member_id: ex.m("d1"),
        due_at: Some(prost_types::Timestamp {
            seconds: 1_000_000_000,
            nanos: 0,
        }),
        theme: String::new(),
        topic,
        origin: Some(pv1::make_commitment_request::Origin::Resolution(
            pv1::ResolutionRef {
                meeting_id: meeting.to_owned(),
                resolution_id: resolution.to_owned(),
            },
        )),
    };
    let newer = client
        .governance
        .make_commitment(client.req(request(pv1::Theme::EconomicModel as i32)))
        .await
        .expect("a commitment with a topic")
        .into_inner();
    let view = client
        .governance
        .get_commitment(client.req(get(&newer.id)))
        .await
        .expect("read")
        .into_inner();
    assert_eq!(
        (view.theme.as_str(), view.topic),
        ("Modèle économique", pv1::Theme::EconomicModel as i32)
    );
    let before = client.head().await;
    let result = client
        .governance
        .make_commitment(client.req(request(99)))
        .await;
    refused(client, before, result, Code::InvalidArgument, "topic").await;
    let before = client.head().await;
    let result = client
        .governance
        .make_commitment(client.req(request(0)))
        .await;
    refused(client, before, result, Code::InvalidArgument, "theme").await;
}

/// Commitments tagged with the programme's axes (issue 14): each axis must be
/// defined in the engagement log and not retired, else INVALID_ARGUMENT names
/// `axis_ids[i]` and nothing is written; a defined one is kept in the view.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commitments_are_tagged_only_with_axes_defined_and_not_retired() {
    let harness = Harness::new();
    let running = harness.start().await;
    let mut client = Client::new(&running, &harness.tokens).await;
    let ex = example(&mut client).await;
    let (consult, retired, unknown) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    client
        .engagement
        .axis(consult, "Concerter les acteurs")
        .await
        .expect("an axis");
    client
        .engagement
        .axis(retired, "Ancien axe")
        .await
        .expect("an axis");
    client
        .engagement
        .retire_axis(retired)
        .await
        .expect("retired");
    let outcome = client.outcome(pv1::ActionKind::Roundtable).await;
    let commit = |axes: &[Uuid]| pv1::MakeCommitmentRequest {
        request_id: rid(),
        consortium_id: ex.consortium.clone(),
        title: "Ouvrir un tiers-lieu".into(),
        owner_member_id: ex.m("b1"),
        due_at: Some(prost_types::Timestamp {
            seconds: 2_000_000_000,
            nanos: 0,
        }),
        topic: pv1::Theme::QuelsTla as i32,
        origin: Some(pv1::make_commitment_request::Origin::RoundtableOutcomeId(
            outcome.clone(),
        )),
        axis_ids: axes.iter().map(Uuid::to_string).collect(),
        ..Default::default()
    };
    let before = client.head().await;
    for (axes, field) in [
        (vec![unknown], "axis_ids[0]:"),
        (vec![consult, retired], "axis_ids[1]:"),
    ] {
        let r = client
            .governance
            .make_commitment(client.req(commit(&axes)))
            .await;
        refused(&mut client, before, r, Code::InvalidArgument, field).await;
    }
    let made = client
        .governance
        .make_commitment(client.req(commit(&[consult])))
        .await
        .expect("a commitment tagged with an axis in use")
        .into_inner();
    let view = client
        .governance
        .get_commitment(client.req(pv1::GetCommitmentRequest {
            commitment_id: made.id,
        }))
        .await
        .expect("read")
        .into_inner();
    assert_eq!(view.axis_ids, vec![consult.to_string()]);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consortia_are_listed_and_members_named_from_the_register_replica() {
    let harness = Harness::new();
    let running = harness.start().await;
    let mut client = Client::new(&running, &harness.tokens).await;
    let list = |client: &Client, token: &str| {
        let mut governance = client.governance.clone();
        let request = with_token(token, pv1::ListConsortiaRequest {});
        async move { governance.list_consortia(request).await }
    };
    // None founded yet: an empty list.
    let empty = list(&client, harness.tokens.of(Role::Secretary))
        .await
        .expect("list")
        .into_inner();
    assert!(empty.consortia.is_empty());

    let ex = example(&mut client).await;
    let founder = client.organisation(OrganisationType::LocalAuthority).await;
    let other = client
        .governance
        .found_consortium(client.req(pv1::FoundConsortiumRequest {
            request_id: rid(),
            name: "Alliance des fablabs".into(),
            founding_collectivite_id: founder,
            territory: vec![pv1::TerritoryRef {
                level: pv1::TerritoryLevel::Departement as i32,
                code: "11".into(),
            }],
            purpose: "Partager les machines".into(),
            charter: "Charte".into(),
        }))
        .await
        .expect("found")
        .into_inner()
        .id;
    let head = client.head().await;
    // Every reader sees them, by name, with their admitted members.
    for role in [
        Role::Secretary,
        Role::Analyst,
        Role::Auditor,
        Role::Facilitator,
    ] {
        let listed = list(&client, harness.tokens.of(role))
            .await
            .expect("list")
            .into_inner();
        let listed: Vec<(&str, &str, u32)> = listed
            .consortia
            .iter()
            .map(|c| (c.consortium_id.as_str(), c.name.as_str(), c.member_count))
            .collect();
        assert_eq!(
            listed,
            [
                (other.as_str(), "Alliance des fablabs", 0),
                (
                    ex.consortium.as_str(),
                    "Consortium des tiers-lieux de l'Aude",
                    10
                ),
            ],
            "{role:?}"
        );
    }
    assert_eq!(client.head().await, head, "listing records nothing");
    // No token, or a role that may not read governance: refused.
    let status = list(&client, "").await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    let status = list(&client, harness.tokens.of(Role::Tool))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");

    // The members carry their organisation's name; a representative (a
    // person) is named by id only: the replica holds no person's name.
    let person = client.person().await;
    client
        .governance
        .appoint_representative(client.req(pv1::AppointRepresentativeRequest {
            request_id: rid(),
            consortium_id: ex.consortium.clone(),
            expected_version: None,
            member_id: ex.m("a1"),
            person_id: person.clone(),
        }))
        .await
        .expect("appoint");
    let view = client
        .governance
        .get_consortium(with_token(
            harness.tokens.of(Role::Analyst),
            pv1::GetConsortiumRequest {
                consortium_id: ex.consortium.clone(),
            },
        ))
        .await
        .expect("consortium")
        .into_inner();
    assert_eq!(view.memberships.len(), 10);
    for member in view
        .memberships
        .iter()
        .chain(view.colleges.iter().flat_map(|college| &college.members))
    {
        assert_eq!(member.display_name, format!("Fixture {}", member.member_id));
    }
    let a1 = view
        .memberships
        .iter()
        .find(|member| member.member_id == ex.m("a1"))
        .unwrap();
    assert_eq!(a1.representative_id, person);
    assert!(!format!("{view:?}").contains(&format!("Fixture {person}")));

    // A meeting names who it names: present, proxies, ballots.
    let meeting = convene(&mut client, &ex.consortium).await;
    attend(
        &mut client,
        &meeting,
        &[ex.m("a1"), ex.m("b1")],
        &[(ex.m("c2"), ex.m("b1"))],
    )
    .await
    .expect("attendance");
    let view = client
        .governance
        .get_meeting(client.req(pv1::GetMeetingRequest {
            meeting_id: meeting.clone(),
        }))
        .await
        .expect("meeting")
        .into_inner();
    let named: BTreeMap<String, String> = view
        .member_names
        .into_iter()
        .map(|named| (named.member_id, named.display_name))
        .collect();
    let expected: BTreeMap<String, String> = ["a1", "b1", "c2"]
        .into_iter()
        .map(|member| (ex.m(member), format!("Fixture {}", ex.m(member))))
        .collect();
    assert_eq!(named, expected);
    running.stop().await;
}
