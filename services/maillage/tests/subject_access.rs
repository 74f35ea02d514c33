//! Subject access across the platform (RGPD art. 15), on the real all-in-one
//! platform and the real binary: `maillage subject-export` returns, in one
//! document written for its owner only, the person's profile and contacts
//! (stakeholders), their invitation, attendance, interview and survey answer
//! decrypted (engagement), and their appointment as a member's representative
//! (governance), each fact with its log position; `--html` writes the summary
//! page in French. What stakeholders holds stays at the document's top
//! level, as before; the other services add their sections.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;

use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, SystemTime};

use common::{answer_as, open_free_text_survey, text, Platform};
use maillage::cli::client::{Authed, SeenPositions};
use maillage_proto::v1 as pb;
use maillage_proto::v1::engagement_client::EngagementClient;
use maillage_proto::v1::governance_client::GovernanceClient;
use maillage_proto::v1::stakeholders_client::StakeholdersClient;
use serde_json::Value;

fn rid() -> String {
    uuid::Uuid::now_v7().to_string()
}

fn hours_ago(hours: u64) -> Option<prost_types::Timestamp> {
    Some((SystemTime::now() - Duration::from_secs(hours * 3_600)).into())
}

struct Clients {
    stakeholders: StakeholdersClient<Authed>,
    engagement: EngagementClient<Authed>,
    governance: GovernanceClient<Authed>,
    seen: SeenPositions,
}

impl Clients {
    fn noted(&self, context: &'static str, reply: tonic::Response<pb::CommandReply>) -> String {
        let reply = reply.into_inner();
        self.seen.note(context, reply.position);
        reply.id
    }

    async fn organisation(
        &mut self,
        name: &str,
        details: pb::organisation_profile::Details,
    ) -> String {
        let reply = self
            .stakeholders
            .register_organisation(pb::RegisterOrganisationRequest {
                request_id: rid(),
                profile: Some(pb::OrganisationProfile {
                    name: name.into(),
                    commune_code: "37003".into(),
                    details: Some(details),
                    ..Default::default()
                }),
            })
            .await
            .unwrap();
        self.noted("stakeholders", reply)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subject_export_gathers_every_service_in_one_private_document() {
    let platform = Platform::start().await;
    let (channel, seen) = platform.connection().connect_session().await.unwrap();
    let mut clients = Clients {
        stakeholders: StakeholdersClient::new(channel.clone()),
        engagement: EngagementClient::new(channel.clone()),
        governance: GovernanceClient::new(channel),
        seen,
    };

    // Stakeholders: her profile and a contact.
    let reply = clients
        .stakeholders
        .register_person(pb::RegisterPersonRequest {
            request_id: rid(),
            profile: Some(pb::PersonProfile {
                given_name: "Odile".into(),
                family_name: "Besnard".into(),
                kinds: vec![pb::PersonKind::Inhabitant as i32],
                commune_code: "37003".into(),
                email: "odile.besnard@example.org".into(),
                ..Default::default()
            }),
            mandates: vec![],
        })
        .await
        .unwrap();
    let odile = clients.noted("stakeholders", reply);
    let reply = clients
        .stakeholders
        .log_interaction(pb::LogInteractionRequest {
            request_id: rid(),
            participant_ids: vec![odile.clone()],
            channel: pb::InteractionChannel::Phone as i32,
            direction: pb::InteractionDirection::Inbound as i32,
            occurred_at: hours_ago(3),
            subject: "Atelier partagé".into(),
            notes: "cherche un atelier pour sa reliure".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    clients.noted("stakeholders", reply);

    // Engagement: invited to a public meeting, present; an interview; a survey answer.
    let reply = clients
        .engagement
        .plan_action(pb::PlanActionRequest {
            request_id: rid(),
            kind: pb::ActionKind::AwarenessPublicMeeting as i32,
            title: "Réunion publique".into(),
            themes: vec![pb::EngagementTheme::Telework as i32],
            audiences: vec![pb::EngagementAudience::Population as i32],
            venue: Some(pb::ActionVenue {
                place: Some(pb::action_venue::Place::CommuneCode("37003".into())),
            }),
            ..Default::default()
        })
        .await
        .unwrap();
    let action = clients.noted("engagement", reply);
    for step in 0..4 {
        let reply = match step {
            0 => clients
                .engagement
                .schedule_action(pb::ScheduleActionRequest {
                    request_id: rid(),
                    action_id: action.clone(),
                    expected_version: None,
                    starts_at: hours_ago(2),
                    ends_at: hours_ago(1),
                })
                .await
                .unwrap(),
            1 => clients
                .engagement
                .invite_to_action(pb::InviteToActionRequest {
                    request_id: rid(),
                    action_id: action.clone(),
                    expected_version: None,
                    stakeholder_ids: vec![odile.clone()],
                })
                .await
                .unwrap(),
            2 => clients
                .engagement
                .mark_action_held(pb::MarkActionHeldRequest {
                    request_id: rid(),
                    action_id: action.clone(),
                    expected_version: None,
                })
                .await
                .unwrap(),
            _ => clients
                .engagement
                .record_attendance(pb::RecordAttendanceRequest {
                    request_id: rid(),
                    action_id: action.clone(),
                    expected_version: None,
                    attendee_ids: vec![odile.clone()],
                    head_counts: vec![],
                })
                .await
                .unwrap(),
        };
        clients.noted("engagement", reply);
    }
    let reply = clients
        .engagement
        .record_interview(pb::RecordInterviewRequest {
            request_id: rid(),
            subject: Some(pb::InterviewSubject {
                who: Some(pb::interview_subject::Who::StakeholderId(odile.clone())),
            }),
            conducted_at: hours_ago(1),
            motivations: vec!["travailler près de chez elle".into()],
            notes: "relieuse, 58 ans".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    clients.noted("engagement", reply);
    let survey = open_free_text_survey(&mut clients.engagement).await;
    let reply = answer_as(
        &mut clients.engagement,
        &survey,
        &odile,
        "une presse à relier",
    )
    .await;
    clients.seen.note("engagement", reply.position);

    // Governance: she represents an association in the consortium.
    let commune = clients
        .organisation(
            "Ville d'Amboise",
            pb::organisation_profile::Details::LocalAuthority(pb::LocalAuthorityDetails {
                authority: Some(pb::TerritoryRef {
                    level: pb::TerritoryLevel::Commune as i32,
                    code: "37003".into(),
                }),
            }),
        )
        .await;
    let association = clients
        .organisation(
            "Les Relieurs du Val",
            pb::organisation_profile::Details::Association(pb::AssociationDetails {}),
        )
        .await;
    let reply = clients
        .governance
        .found_consortium(pb::FoundConsortiumRequest {
            request_id: rid(),
            name: "Consortium".into(),
            founding_collectivite_id: commune,
            territory: vec![pb::TerritoryRef {
                level: pb::TerritoryLevel::Commune as i32,
                code: "37003".into(),
            }],
            purpose: "Tiers-lieux".into(),
            charter: String::new(),
        })
        .await
        .unwrap();
    let consortium = clients.noted("governance", reply);
    let reply = clients
        .governance
        .define_college(pb::DefineCollegeRequest {
            request_id: rid(),
            consortium_id: consortium.clone(),
            expected_version: None,
            college_code: "associations".into(),
            name: "Associations".into(),
            weight: 10,
        })
        .await
        .unwrap();
    clients.noted("governance", reply);
    for step in 0..3 {
        let reply = match step {
            0 => clients
                .governance
                .apply_for_membership(pb::ApplyForMembershipRequest {
                    request_id: rid(),
                    consortium_id: consortium.clone(),
                    expected_version: None,
                    organisation_id: association.clone(),
                    college_code: "associations".into(),
                })
                .await
                .unwrap(),
            1 => clients
                .governance
                .admit_member(pb::AdmitMemberRequest {
                    request_id: rid(),
                    consortium_id: consortium.clone(),
                    expected_version: None,
                    member_id: association.clone(),
                })
                .await
                .unwrap(),
            _ => clients
                .governance
                .appoint_representative(pb::AppointRepresentativeRequest {
                    request_id: rid(),
                    consortium_id: consortium.clone(),
                    expected_version: None,
                    member_id: association.clone(),
                    person_id: odile.clone(),
                })
                .await
                .unwrap(),
        };
        clients.noted("governance", reply);
    }

    let json_path = platform.dir.path().join("odile.json");
    let html_path = platform.dir.path().join("odile.html");
    let out = platform
        .maillage(&[
            "subject-export",
            &odile,
            "--out",
            json_path.to_str().unwrap(),
            "--html",
            html_path.to_str().unwrap(),
        ])
        .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    for path in [&json_path, &html_path] {
        let mode = std::fs::metadata(path).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "{} is readable by others", path.display());
    }
    let document: Value = serde_json::from_slice(&std::fs::read(&json_path).unwrap()).unwrap();

    let profile = &document["stakeholder"]["profile"];
    assert_eq!(profile["email"], "odile.besnard@example.org");
    assert_eq!(
        document["interactions"][0]["notes"],
        "cherche un atelier pour sa reliure"
    );
    let engagement = &document["engagement"];
    let types: Vec<&str> = engagement["facts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|fact| fact["event_type"].as_str().unwrap())
        .collect();
    for expected in [
        "maillage.v1.ActionInvitationsSent",
        "maillage.v1.ActionAttendanceRecorded",
        "maillage.v1.InterviewRecorded",
        "maillage.v1.SurveyResponseSubmitted",
    ] {
        assert!(
            types.contains(&expected),
            "{expected} missing from {types:?}"
        );
    }
    assert!(engagement["facts"][0]["position"].as_u64().unwrap() > 0);
    assert_eq!(engagement["interviews"][0]["notes"], "relieuse, 58 ans");
    assert_eq!(
        engagement["interviews"][0]["motivations"][0],
        "travailler près de chez elle"
    );
    assert_eq!(
        engagement["survey_responses"][0]["answers"][0]["answer"],
        "une presse à relier"
    );
    let governance: Vec<&str> = document["governance"]["facts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|fact| fact["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(governance, ["maillage.v1.RepresentativeAppointed"]);

    let page = std::fs::read_to_string(&html_path).unwrap();
    assert!(page.contains("<html lang=\"fr\">"));
    assert!(page.contains("Les données que nous détenons sur vous"));
    assert!(page.contains("relieuse, 58 ans"));
    assert!(page.contains("désignation comme représentant d&#39;un membre"));
    let _kept = platform.stop().await;
}
