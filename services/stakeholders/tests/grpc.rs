//! The stakeholders service through a real tonic client: the whole register and
//! contact log, read back after a restart; retries; every bad input refused
//! without touching the log; roles.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;

use std::time::{Duration, SystemTime};

use anyhow::Result;
use common::*;
use maillage_proto::v1 as pb;
use tonic::Code;

/// Asserts `result` failed with `code` and, when given, a message starting with `field: `.
fn assert_refused<T: std::fmt::Debug>(
    result: Result<tonic::Response<T>, tonic::Status>,
    code: Code,
    field: Option<&str>,
) -> tonic::Status {
    let status = result.expect_err("the request should be refused");
    assert_eq!(status.code(), code, "{status:?}");
    if let Some(field) = field {
        assert!(
            status.message().starts_with(&format!("{field}: ")),
            "expected field {field}: {status:?}"
        );
    }
    status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_register_and_the_contact_log_are_read_back_after_a_restart() -> Result<()> {
    let harness = Harness::start().await?;
    let mut client = harness.facilitator().await?;

    // An élu with a mandate, registered in one request.
    let registered = client
        .register_person(pb::RegisterPersonRequest {
            request_id: rid(),
            profile: Some(person(
                "Camille",
                "Martin",
                &[pb::PersonKind::ElectedOfficial],
            )),
            mandates: vec![maire(400)],
        })
        .await?
        .into_inner();
    assert_eq!(registered.version, 2, "PersonRegistered + MandateStarted");
    let elu = registered.id.clone();
    assert_eq!(uuid::Uuid::parse_str(&elu)?.get_version_num(), 7);

    let business_id = register_business(&mut client, "Menuiserie Durand").await?;
    let tiers_lieu = client
        .register_organisation(pb::RegisterOrganisationRequest {
            request_id: rid(),
            profile: Some(pb::OrganisationProfile {
                name: "La Fabrique".into(),
                commune_code: "11069".into(),
                siren: String::new(),
                details: Some(pb::organisation_profile::Details::TiersLieu(
                    pb::TiersLieuDetails {
                        typologies: vec![
                            pb::TiersLieuTypology::FablabMakerspace as i32,
                            pb::TiersLieuTypology::Coworking as i32,
                        ],
                        status: pb::TiersLieuStatus::Project as i32,
                    },
                )),
            }),
        })
        .await?
        .into_inner()
        .id;

    // Affiliation, consent, profile update, a second mandate ended.
    let reply = client
        .add_affiliation(pb::AddAffiliationRequest {
            request_id: rid(),
            stakeholder_id: elu.clone(),
            expected_version: Some(2),
            organisation_id: tiers_lieu.clone(),
            role: "présidente".into(),
            started_at: Some(days_ago(30)),
        })
        .await?
        .into_inner();
    assert_eq!(reply.version, 3);
    client
        .record_consent(pb::RecordConsentRequest {
            request_id: rid(),
            stakeholder_id: elu.clone(),
            expected_version: None,
            channel: pb::ConsentChannel::Email as i32,
            legal_basis: pb::LegalBasis::PublicInterestMission as i32,
            purposes: vec![],
        })
        .await?;
    let mut updated = person(
        "Camille",
        "Martin-Roux",
        &[
            pb::PersonKind::ElectedOfficial,
            pb::PersonKind::TiersLieuManager,
        ],
    );
    updated.phone = "+33612345678".into();
    client
        .update_person_profile(pb::UpdatePersonProfileRequest {
            request_id: rid(),
            stakeholder_id: elu.clone(),
            expected_version: Some(4),
            profile: Some(updated),
        })
        .await?;
    client
        .start_mandate(pb::StartMandateRequest {
            request_id: rid(),
            stakeholder_id: elu.clone(),
            expected_version: None,
            mandate: Some(pb::MandateInput {
                office: pb::MandateOffice::ConseillerCommunautaire as i32,
                authority: Some(pb::TerritoryRef {
                    level: pb::TerritoryLevel::Epci as i32,
                    // Carcassonne Agglo.
                    code: "200035715".into(),
                }),
                started_at: Some(days_ago(300)),
                ended_at: None,
            }),
        })
        .await?;
    let stakeholder = client
        .get_stakeholder(pb::GetStakeholderRequest {
            stakeholder_id: elu.clone(),
        })
        .await?
        .into_inner();
    let second = stakeholder.mandates[1].mandate_id.clone();
    client
        .end_mandate(pb::EndMandateRequest {
            request_id: rid(),
            stakeholder_id: elu.clone(),
            expected_version: None,
            mandate_id: second.clone(),
            ended_at: Some(days_ago(1)),
        })
        .await?;

    // The contact log: logged, corrected, follow-up done.
    let logged = client
        .log_interaction(phone_call(&[&elu, &business_id], "Camille wants a fablab"))
        .await?
        .into_inner();
    assert_eq!(logged.version, 1);
    let interaction = client
        .get_interaction(pb::GetInteractionRequest {
            interaction_id: logged.id.clone(),
        })
        .await?
        .into_inner();
    let follow_up = interaction.follow_ups[0].follow_up_id.clone();
    client
        .correct_interaction(pb::CorrectInteractionRequest {
            request_id: rid(),
            interaction_id: logged.id.clone(),
            expected_version: Some(1),
            reason: "it was a video call".into(),
            channel: Some(pb::InteractionChannel::Video as i32),
            notes: Some("Camille wants a fablab and a coworking space".into()),
            ..Default::default()
        })
        .await?;
    client
        .complete_follow_up(pb::CompleteFollowUpRequest {
            request_id: rid(),
            interaction_id: logged.id.clone(),
            expected_version: Some(2),
            follow_up_id: follow_up.clone(),
        })
        .await?;

    // Read as a facilitator (an analyst never reads personal data: see reads_by_purpose.rs).
    let mut reader = harness.facilitator().await?;
    let before_stakeholder = reader
        .get_stakeholder(pb::GetStakeholderRequest {
            stakeholder_id: elu.clone(),
        })
        .await?
        .into_inner();
    let profile = before_stakeholder.person.clone().unwrap();
    assert_eq!(profile.family_name, "Martin-Roux");
    assert_eq!(profile.phone, "+33612345678");
    assert_eq!(profile.email, "camille.martin-roux@example.fr");
    assert_eq!(
        before_stakeholder.r#type,
        pb::StakeholderType::Person as i32
    );
    assert_eq!(before_stakeholder.version, 7);
    assert_eq!(before_stakeholder.registered_by, "alice");
    assert_eq!(before_stakeholder.mandates.len(), 2);
    assert!(before_stakeholder.mandates[0].ended_at.is_none());
    assert!(before_stakeholder.mandates[1].ended_at.is_some());
    assert_eq!(
        before_stakeholder.affiliations[0].organisation_id,
        tiers_lieu
    );
    assert_eq!(before_stakeholder.consents.len(), 1);
    let before_interaction = reader
        .get_interaction(pb::GetInteractionRequest {
            interaction_id: logged.id.clone(),
        })
        .await?
        .into_inner();
    assert_eq!(
        before_interaction.channel,
        pb::InteractionChannel::Video as i32
    );
    assert_eq!(
        before_interaction.notes,
        "Camille wants a fablab and a coworking space"
    );
    assert_eq!(
        before_interaction.subject,
        "Projet de tiers-lieu à la Bastide"
    );
    assert_eq!(before_interaction.facilitator, "alice");
    assert_eq!(before_interaction.corrections.len(), 1);
    assert_eq!(
        before_interaction.corrections[0].reason,
        "it was a video call"
    );
    assert_eq!(
        before_interaction.corrections[0].fields,
        vec!["channel", "notes"]
    );
    assert!(before_interaction.follow_ups[0].completed);
    assert_eq!(before_interaction.participants.len(), 2);
    assert_eq!(
        before_interaction.participants[1].r#type,
        pb::StakeholderType::Organisation as i32
    );
    let business_before = reader
        .get_stakeholder(pb::GetStakeholderRequest {
            stakeholder_id: business_id.clone(),
        })
        .await?
        .into_inner();
    assert_eq!(
        business_before.organisation.as_ref().unwrap().name,
        "Menuiserie Durand"
    );

    // No personal value is in the log in clear.
    let events = harness.all_events().await?;
    let head = harness.head().await?;
    assert_eq!(events.len() as u64, head);
    for event in &events {
        for secret in [
            "Camille",
            "Martin",
            "example.fr",
            "612345678",
            "rue de la Cité",
            "fablab",
            "Envoyer",
            "video call",
        ] {
            assert!(
                !event
                    .payload
                    .windows(secret.len())
                    .any(|window| window == secret.as_bytes()),
                "{secret:?} in clear in {}",
                event.event_type
            );
        }
    }
    // The original interaction stays in the log next to its correction.
    let types: Vec<&str> = events
        .iter()
        .map(|event| event.event_type.as_str())
        .collect();
    assert!(types.contains(&"maillage.v1.InteractionLogged"));
    assert!(types.contains(&"maillage.v1.InteractionCorrected"));

    // Restart on the same data and read everything back.
    let dir = harness.stop().await?;
    let harness = Harness::start_in(dir).await?;
    let mut reader = harness.facilitator().await?;
    let after_stakeholder = reader
        .get_stakeholder(pb::GetStakeholderRequest {
            stakeholder_id: elu.clone(),
        })
        .await?
        .into_inner();
    assert_eq!(after_stakeholder, before_stakeholder);
    let after_interaction = reader
        .get_interaction(pb::GetInteractionRequest {
            interaction_id: logged.id.clone(),
        })
        .await?
        .into_inner();
    assert_eq!(after_interaction, before_interaction);
    let business_after = reader
        .get_stakeholder(pb::GetStakeholderRequest {
            stakeholder_id: business_id.clone(),
        })
        .await?
        .into_inner();
    assert_eq!(business_after, business_before);
    assert_eq!(harness.head().await?, head);
    harness.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_request_gets_the_same_answer_and_writes_once() -> Result<()> {
    let harness = Harness::start().await?;
    let mut client = harness.facilitator().await?;
    let request = pb::RegisterPersonRequest {
        request_id: "register-camille-1".into(),
        profile: Some(person("Camille", "Martin", &[pb::PersonKind::Inhabitant])),
        mandates: vec![],
    };
    let first = client.register_person(request.clone()).await?.into_inner();
    let head = harness.head().await?;
    let again = client.register_person(request.clone()).await?.into_inner();
    assert_eq!(again, first);
    assert_eq!(harness.head().await?, head, "one event only");

    // Concurrent retries agree too.
    let concurrent = pb::RegisterOrganisationRequest {
        request_id: "register-durand-1".into(),
        profile: Some(business("Menuiserie Durand")),
    };
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let mut client = harness.facilitator().await?;
        let request = concurrent.clone();
        tasks.push(tokio::spawn(async move {
            client.register_organisation(request).await
        }));
    }
    let mut replies = Vec::new();
    for task in tasks {
        replies.push(task.await??.into_inner());
    }
    assert!(
        replies.windows(2).all(|pair| pair[0] == pair[1]),
        "{replies:?}"
    );
    assert_eq!(harness.head().await?, head + 1);

    // The same for an interaction.
    let call = phone_call(&[&first.id], "notes");
    let logged = client.log_interaction(call.clone()).await?.into_inner();
    let head = harness.head().await?;
    assert_eq!(client.log_interaction(call).await?.into_inner(), logged);
    assert_eq!(harness.head().await?, head);

    // And across a restart.
    let dir = harness.stop().await?;
    let harness = Harness::start_in(dir).await?;
    let mut client = harness.facilitator().await?;
    assert_eq!(client.register_person(request).await?.into_inner(), first);
    assert_eq!(harness.head().await?, head);
    harness.stop().await?;
    Ok(())
}

/// What the fingerprint of a command would be without a key (as first
/// written): anyone reading the log could compute it from a guessed message.
fn unkeyed_fingerprint<T: prost::Name>(message: &T) -> String {
    let mut hasher = blake3::Hasher::new_derive_key("maillage 2026 command fingerprint v1");
    hasher.update(T::full_name().as_bytes());
    hasher.update(&[0]);
    hasher.update(&prost::Message::encode_to_vec(message));
    format!("cmd-{}", &hasher.finalize().to_hex()[..32])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_id_reused_for_another_command_or_by_another_principal_is_refused() -> Result<()>
{
    let harness = Harness::start().await?;
    let mut client = harness.facilitator().await?;
    let register = pb::RegisterPersonRequest {
        request_id: rid(),
        profile: Some(person("Camille", "Martin", &[pb::PersonKind::Inhabitant])),
        mandates: vec![],
    };
    let id = client
        .register_person(register.clone())
        .await?
        .into_inner()
        .id;
    let consent = pb::RecordConsentRequest {
        request_id: "consent-1".into(),
        stakeholder_id: id.clone(),
        expected_version: None,
        channel: pb::ConsentChannel::Email as i32,
        legal_basis: pb::LegalBasis::Consent as i32,
        purposes: vec![],
    };
    let recorded = client.record_consent(consent.clone()).await?.into_inner();
    assert_eq!(recorded.version, 2);
    let head = harness.head().await?;
    let stakeholder = |client: &mut Client| {
        let id = id.clone();
        let mut client = client.clone();
        async move {
            anyhow::Ok(
                client
                    .get_stakeholder(pb::GetStakeholderRequest { stakeholder_id: id })
                    .await?
                    .into_inner(),
            )
        }
    };
    let before = stakeholder(&mut client).await?;
    assert_eq!(before.consents.len(), 1);

    // The withdrawal, sent with the consent's request id: refused, not
    // answered with the consent's outcome while the withdrawal is dropped.
    let withdraw = pb::WithdrawConsentRequest {
        request_id: "consent-1".into(),
        stakeholder_id: id.clone(),
        expected_version: None,
        channel: pb::ConsentChannel::Email as i32,
        purposes: vec![],
    };
    let status = assert_refused(
        client.withdraw_consent(withdraw.clone()).await,
        Code::AlreadyExists,
        None,
    );
    assert_eq!(
        status.message(),
        "request id consent-1 was already used for another command"
    );
    // The same command with other fields is another command too.
    let by_post = pb::RecordConsentRequest {
        channel: pb::ConsentChannel::Post as i32,
        ..consent.clone()
    };
    assert_refused(
        client.record_consent(by_post).await,
        Code::AlreadyExists,
        None,
    );
    // The very same message from another principal (an admin may write too).
    let mut admin = harness.admin().await?;
    assert_refused(
        admin.record_consent(consent.clone()).await,
        Code::AlreadyExists,
        None,
    );
    assert_eq!(harness.head().await?, head, "nothing written");
    assert_eq!(stakeholder(&mut client).await?, before);

    // The same request by the same principal still gets its original outcome,
    // and the withdrawal under its own request id is recorded.
    assert_eq!(
        client.record_consent(consent.clone()).await?.into_inner(),
        recorded
    );
    assert_eq!(harness.head().await?, head);
    let withdrawn = client
        .withdraw_consent(pb::WithdrawConsentRequest {
            request_id: "withdraw-1".into(),
            ..withdraw
        })
        .await?
        .into_inner();
    assert_eq!(withdrawn.version, 3);
    assert!(stakeholder(&mut client).await?.consents.is_empty());

    // The causation ids in the log are keyed fingerprints: whoever reads the
    // log and guesses a request (a name, an email) cannot confirm the guess.
    let events = harness.all_events().await?;
    let causation = |request_id: &str| {
        events
            .iter()
            .filter_map(|event| event.metadata.as_ref())
            .find(|metadata| metadata.request_id == request_id)
            .map(|metadata| metadata.causation_id.clone())
            .unwrap_or_default()
    };
    let registered = causation(&register.request_id);
    assert!(registered.starts_with("cmd-"), "{registered}");
    assert_ne!(registered, unkeyed_fingerprint(&register));
    assert_ne!(causation("consent-1"), unkeyed_fingerprint(&consent));
    assert!(!registered.contains("Camille"));

    // After a restart with the same master key, the retry is still recognised.
    let dir = harness.stop().await?;
    let harness = Harness::start_in(dir).await?;
    let mut client = harness.facilitator().await?;
    assert_eq!(client.record_consent(consent).await?.into_inner(), recorded);
    assert_eq!(
        client.register_person(register).await?.into_inner().version,
        1
    );
    harness.stop().await?;
    Ok(())
}

/// What the bad-input tests start from: an inhabitant affiliated to a
/// business, an élu with a mandate, and the log's head then.
struct Refusals {
    harness: Harness,
    client: Client,
    inhabitant: String,
    elu: String,
    business_id: String,
    affiliated: pb::CommandReply,
    affiliation: String,
    head: u64,
}

async fn refusals() -> Result<Refusals> {
    let harness = Harness::start().await?;
    let mut client = harness.facilitator().await?;
    let inhabitant = register_person(
        &mut client,
        person("Léa", "Roux", &[pb::PersonKind::Inhabitant]),
    )
    .await?;
    let elu = client
        .register_person(pb::RegisterPersonRequest {
            request_id: rid(),
            profile: Some(person(
                "Camille",
                "Martin",
                &[pb::PersonKind::ElectedOfficial],
            )),
            mandates: vec![maire(100)],
        })
        .await?
        .into_inner()
        .id;
    let business_id = register_business(&mut client, "Menuiserie Durand").await?;
    let affiliated = client
        .add_affiliation(pb::AddAffiliationRequest {
            request_id: rid(),
            stakeholder_id: inhabitant.clone(),
            expected_version: None,
            organisation_id: business_id.clone(),
            role: "gérante".into(),
            started_at: Some(days_ago(10)),
        })
        .await?
        .into_inner();
    let stakeholder = client
        .get_stakeholder(pb::GetStakeholderRequest {
            stakeholder_id: inhabitant.clone(),
        })
        .await?
        .into_inner();
    let affiliation = stakeholder.affiliations[0].affiliation_id.clone();
    let head = harness.head().await?;
    Ok(Refusals {
        harness,
        client,
        inhabitant,
        elu,
        business_id,
        affiliated,
        affiliation,
        head,
    })
}

/// A registration of `profile`, without mandates.
fn register(profile: pb::PersonProfile) -> pb::RegisterPersonRequest {
    pb::RegisterPersonRequest {
        request_id: rid(),
        profile: Some(profile),
        mandates: vec![],
    }
}

/// An inhabitant's profile, to spoil one field of.
fn base() -> pb::PersonProfile {
    person("Léa", "Roux", &[pb::PersonKind::Inhabitant])
}

/// Profiles, mandates and affiliations out of the rules (commune codes,
/// names, email, phone, SIREN, a mandate on a non-élu or of the wrong level,
/// an end before a start) are refused naming the field, and nothing is written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_profiles_mandates_and_affiliations_are_refused_and_write_nothing() -> Result<()> {
    let Refusals {
        harness,
        mut client,
        inhabitant,
        elu,
        business_id: _business_id,
        affiliated: _affiliated,
        affiliation,
        head,
    } = refusals().await?;
    // Unknown and malformed commune codes: the message says which.
    let mut unknown = base();
    unknown.commune_code = "99999".into();
    let status = assert_refused(
        client.register_person(register(unknown)).await,
        Code::InvalidArgument,
        Some("profile.commune_code"),
    );
    assert!(status.message().contains("unknown"), "{status:?}");
    let mut malformed = base();
    malformed.commune_code = "1106".into();
    let status = assert_refused(
        client.register_person(register(malformed)).await,
        Code::InvalidArgument,
        Some("profile.commune_code"),
    );
    assert!(status.message().contains("malformed"), "{status:?}");

    // Empty and oversized names.
    let mut empty = base();
    empty.given_name = "  ".into();
    assert_refused(
        client.register_person(register(empty)).await,
        Code::InvalidArgument,
        Some("profile.given_name"),
    );
    let mut long = base();
    long.family_name = "x".repeat(101);
    assert_refused(
        client.register_person(register(long)).await,
        Code::InvalidArgument,
        Some("profile.family_name"),
    );
    let mut long_org = business("x");
    long_org.name = "x".repeat(201);
    assert_refused(
        client
            .register_organisation(pb::RegisterOrganisationRequest {
                request_id: rid(),
                profile: Some(long_org),
            })
            .await,
        Code::InvalidArgument,
        Some("profile.name"),
    );

    // Malformed email, phone, SIREN.
    let mut bad_email = base();
    bad_email.email = "lea.roux@".into();
    let status = assert_refused(
        client.register_person(register(bad_email)).await,
        Code::InvalidArgument,
        Some("profile.email"),
    );
    assert!(
        !status.message().contains("lea.roux"),
        "no personal data echoed: {status:?}"
    );
    let mut bad_phone = base();
    bad_phone.phone = "06 12".into();
    assert_refused(
        client.register_person(register(bad_phone)).await,
        Code::InvalidArgument,
        Some("profile.phone"),
    );
    let mut bad_siren = business("Menuiserie");
    bad_siren.siren = "120027017".into();
    assert_refused(
        client
            .register_organisation(pb::RegisterOrganisationRequest {
                request_id: rid(),
                profile: Some(bad_siren),
            })
            .await,
        Code::InvalidArgument,
        Some("profile.siren"),
    );

    // A mandate on a non-élu, at registration and later.
    assert_refused(
        client
            .register_person(pb::RegisterPersonRequest {
                request_id: rid(),
                profile: Some(base()),
                mandates: vec![maire(10)],
            })
            .await,
        Code::FailedPrecondition,
        None,
    );
    let not_elected = assert_refused(
        client
            .start_mandate(pb::StartMandateRequest {
                request_id: rid(),
                stakeholder_id: inhabitant.clone(),
                expected_version: None,
                mandate: Some(maire(10)),
            })
            .await,
        Code::FailedPrecondition,
        None,
    );
    // Issue 13: with its French wording for a person, the English unchanged.
    assert_eq!(
        not_elected.message(),
        "only an elected official may hold a mandate"
    );
    let localized = tonic_types::StatusExt::get_details_localized_message(&not_elected)
        .expect("a LocalizedMessage");
    assert_eq!(
        (localized.locale.as_str(), localized.message.as_str()),
        ("fr-FR", "Seul un élu peut détenir un mandat.")
    );
    // A maire's authority is a commune, not a département.
    let mut wrong_level = maire(10);
    wrong_level.authority = Some(pb::TerritoryRef {
        level: pb::TerritoryLevel::Departement as i32,
        code: "11".into(),
    });
    assert_refused(
        client
            .start_mandate(pb::StartMandateRequest {
                request_id: rid(),
                stakeholder_id: elu.clone(),
                expected_version: None,
                mandate: Some(wrong_level),
            })
            .await,
        Code::InvalidArgument,
        Some("mandate.authority.level"),
    );

    // An end before a start: a new mandate, an affiliation.
    let mut backwards = maire(10);
    backwards.ended_at = Some(days_ago(20));
    assert_refused(
        client
            .start_mandate(pb::StartMandateRequest {
                request_id: rid(),
                stakeholder_id: elu.clone(),
                expected_version: None,
                mandate: Some(backwards),
            })
            .await,
        Code::InvalidArgument,
        Some("mandate.ended_at"),
    );
    assert_refused(
        client
            .end_affiliation(pb::EndAffiliationRequest {
                request_id: rid(),
                stakeholder_id: inhabitant.clone(),
                expected_version: None,
                affiliation_id: affiliation.clone(),
                ended_at: Some(days_ago(11)),
            })
            .await,
        Code::InvalidArgument,
        Some("ended_at"),
    );

    assert_eq!(
        harness.head().await?,
        head,
        "no refused request wrote anything"
    );
    harness.stop().await?;
    Ok(())
}

/// Contacts out of the rules (in the future, with unknown or repeated
/// participants, no channel), a correction of a missing contact, a stale
/// version and unknown stakeholder ids are refused, and nothing is written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_contacts_versions_and_ids_are_refused_and_write_nothing() -> Result<()> {
    let Refusals {
        harness,
        mut client,
        inhabitant,
        elu,
        business_id: _business_id,
        affiliated,
        affiliation: _affiliation,
        head,
    } = refusals().await?;
    // occurred_at more than 5 minutes in the future (6 minutes here).
    let mut future = phone_call(&[&inhabitant], "");
    future.occurred_at = Some(ts(SystemTime::now() + Duration::from_secs(360)));
    assert_refused(
        client.log_interaction(future).await,
        Code::InvalidArgument,
        Some("occurred_at"),
    );

    // Unknown participants, and a repeated one.
    let nobody = uuid::Uuid::now_v7().to_string();
    assert_refused(
        client
            .log_interaction(phone_call(&[&inhabitant, &nobody], ""))
            .await,
        Code::InvalidArgument,
        Some("participant_ids[1]"),
    );
    assert_refused(
        client
            .log_interaction(phone_call(&[&inhabitant, &inhabitant], ""))
            .await,
        Code::InvalidArgument,
        Some("participant_ids[1]"),
    );
    assert_refused(
        client
            .log_interaction(phone_call(&["not-a-uuid"], ""))
            .await,
        Code::InvalidArgument,
        Some("participant_ids[0]"),
    );
    let mut no_channel = phone_call(&[&inhabitant], "");
    no_channel.channel = 0;
    assert_refused(
        client.log_interaction(no_channel).await,
        Code::InvalidArgument,
        Some("channel"),
    );

    // A correction of a missing interaction.
    assert_refused(
        client
            .correct_interaction(pb::CorrectInteractionRequest {
                request_id: rid(),
                interaction_id: uuid::Uuid::now_v7().to_string(),
                reason: "typo".into(),
                channel: Some(pb::InteractionChannel::Email as i32),
                ..Default::default()
            })
            .await,
        Code::NotFound,
        None,
    );

    // A stale expected version: ABORTED with the actual one.
    let status = assert_refused(
        client
            .record_consent(pb::RecordConsentRequest {
                request_id: rid(),
                stakeholder_id: inhabitant.clone(),
                expected_version: Some(affiliated.version - 1),
                channel: pb::ConsentChannel::Email as i32,
                legal_basis: pb::LegalBasis::Consent as i32,
                purposes: vec![],
            })
            .await,
        Code::Aborted,
        None,
    );
    assert!(
        status
            .message()
            .contains(&format!("actual {}", affiliated.version)),
        "{status:?}"
    );

    // Unknown stakeholder ids.
    assert_refused(
        client
            .archive_stakeholder(pb::ArchiveStakeholderRequest {
                request_id: rid(),
                stakeholder_id: nobody.clone(),
                expected_version: None,
            })
            .await,
        Code::NotFound,
        None,
    );
    assert_refused(
        client
            .add_affiliation(pb::AddAffiliationRequest {
                request_id: rid(),
                stakeholder_id: inhabitant.clone(),
                expected_version: None,
                organisation_id: elu.clone(),
                role: "membre".into(),
                started_at: Some(days_ago(1)),
            })
            .await,
        Code::InvalidArgument,
        Some("organisation_id"),
    );

    assert_eq!(
        harness.head().await?,
        head,
        "no refused request wrote anything"
    );
    harness.stop().await?;
    Ok(())
}

/// A request without a valid token, or by a role that may not make it (the
/// erasure and the export are the admin's), is refused, and nothing is written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callers_without_a_token_or_the_role_are_refused_and_write_nothing() -> Result<()> {
    let Refusals {
        harness,
        mut client,
        inhabitant,
        elu: _elu,
        business_id: _business_id,
        affiliated: _affiliated,
        affiliation: _affiliation,
        head,
    } = refusals().await?;
    // No token; a role that may not.
    let mut anonymous = harness.anonymous().await?;
    assert_refused(
        anonymous.register_person(register(base())).await,
        Code::Unauthenticated,
        None,
    );
    assert_refused(
        anonymous
            .get_stakeholder(pb::GetStakeholderRequest {
                stakeholder_id: inhabitant.clone(),
            })
            .await,
        Code::Unauthenticated,
        None,
    );
    let mut wrong_token = harness.client("mlg_not-a-real-token").await?;
    assert_refused(
        wrong_token.register_person(register(base())).await,
        Code::Unauthenticated,
        None,
    );
    for token in [
        harness.tokens.of(Role::Analyst),
        harness.tokens.of(Role::Auditor),
        harness.tokens.of(Role::Tool),
        harness.tokens.of(Role::Secretary),
    ] {
        let mut other = harness.client(token).await?;
        assert_refused(
            other.register_person(register(base())).await,
            Code::PermissionDenied,
            None,
        );
        assert_refused(
            other.log_interaction(phone_call(&[&inhabitant], "")).await,
            Code::PermissionDenied,
            None,
        );
    }
    let mut tool = harness.client(harness.tokens.of(Role::Tool)).await?;
    assert_refused(
        tool.get_stakeholder(pb::GetStakeholderRequest {
            stakeholder_id: inhabitant.clone(),
        })
        .await,
        Code::PermissionDenied,
        None,
    );
    // Erasure and export are the admin's.
    assert_refused(
        client
            .erase_person(pb::ErasePersonRequest {
                request_id: rid(),
                stakeholder_id: inhabitant.clone(),
                expected_version: None,
                reason: "request".into(),
            })
            .await,
        Code::PermissionDenied,
        None,
    );
    assert_refused(
        client
            .export_person_data(pb::ExportPersonDataRequest {
                stakeholder_id: inhabitant.clone(),
            })
            .await,
        Code::PermissionDenied,
        None,
    );

    assert_eq!(
        harness.head().await?,
        head,
        "no refused request wrote anything"
    );
    harness.stop().await?;
    Ok(())
}

/// One vocabulary of themes (issue 11, item 5): a client sends `topics`
/// (`Theme`) or, written before them, the older `themes`; a contact is read
/// back in both; two lists that disagree are refused and change nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contacts_speak_the_shared_vocabulary_and_still_the_older_one() -> Result<()> {
    let harness = Harness::start().await?;
    let mut client = harness.facilitator().await?;
    let elu = register_person(
        &mut client,
        person("Léa", "Roux", &[pb::PersonKind::ElectedOfficial]),
    )
    .await?;
    let get = |id: String| pb::GetInteractionRequest { interaction_id: id };

    // An older client: CONSORTIUM is GOVERNANCE in the shared vocabulary.
    let mut older = phone_call(&[&elu], "");
    older.themes = vec![pb::InteractionTheme::Consortium as i32];
    let older_id = client.log_interaction(older).await?.into_inner().id;
    let read = client
        .get_interaction(get(older_id.clone()))
        .await?
        .into_inner();
    assert_eq!(read.topics, vec![pb::Theme::Governance as i32]);
    assert_eq!(read.themes, vec![pb::InteractionTheme::Consortium as i32]);

    // A newer client: a theme the older vocabulary lacks reads OTHER there.
    let mut newer = phone_call(&[&elu], "");
    newer.themes = vec![];
    newer.topics = vec![pb::Theme::Mobility as i32, pb::Theme::Telework as i32];
    let newer_id = client.log_interaction(newer).await?.into_inner().id;
    let read = client
        .get_interaction(get(newer_id.clone()))
        .await?
        .into_inner();
    assert_eq!(
        read.topics,
        vec![pb::Theme::Telework as i32, pb::Theme::Mobility as i32]
    );
    assert_eq!(
        read.themes,
        vec![
            pb::InteractionTheme::Telework as i32,
            pb::InteractionTheme::Other as i32
        ]
    );

    // A correction in either vocabulary replaces the themes.
    client
        .correct_interaction(pb::CorrectInteractionRequest {
            request_id: rid(),
            interaction_id: newer_id.clone(),
            reason: "c'était une réunion sur l'inclusion numérique".into(),
            topics: Some(pb::Themes {
                themes: vec![pb::Theme::DigitalInclusion as i32],
            }),
            ..Default::default()
        })
        .await?;
    let read = client
        .get_interaction(get(newer_id.clone()))
        .await?
        .into_inner();
    assert_eq!(read.topics, vec![pb::Theme::DigitalInclusion as i32]);
    client
        .correct_interaction(pb::CorrectInteractionRequest {
            request_id: rid(),
            interaction_id: older_id.clone(),
            reason: "sur l'enquête".into(),
            themes: Some(pb::InteractionThemes {
                themes: vec![pb::InteractionTheme::Survey as i32],
            }),
            ..Default::default()
        })
        .await?;
    let read = client.get_interaction(get(older_id)).await?.into_inner();
    assert_eq!(read.topics, vec![pb::Theme::Survey as i32]);

    // Refused, naming the field, the log unchanged.
    let head = harness.head().await?;
    let mut disagree = phone_call(&[&elu], "");
    disagree.topics = vec![pb::Theme::Mobility as i32];
    assert_refused(
        client.log_interaction(disagree).await,
        Code::InvalidArgument,
        Some("topics"),
    );
    let mut unknown = phone_call(&[&elu], "");
    unknown.topics = vec![pb::Theme::Telework as i32, 99];
    assert_refused(
        client.log_interaction(unknown).await,
        Code::InvalidArgument,
        Some("topics[1]"),
    );
    assert_refused(
        client
            .correct_interaction(pb::CorrectInteractionRequest {
                request_id: rid(),
                interaction_id: newer_id,
                reason: "deux listes".into(),
                themes: Some(pb::InteractionThemes {
                    themes: vec![pb::InteractionTheme::Awareness as i32],
                }),
                topics: Some(pb::Themes {
                    themes: vec![pb::Theme::Mobility as i32],
                }),
                ..Default::default()
            })
            .await,
        Code::InvalidArgument,
        Some("topics.themes"),
    );
    assert_eq!(harness.head().await?, head);
    harness.stop().await?;
    Ok(())
}

/// Follow-ups someone owns (issue 12, item 4): a follow-up belongs to the
/// facilitator who logged the contact unless given an owner; an open one can
/// be reassigned (owner, due date), a done one cannot; bad owners are refused
/// and change nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_ups_have_owners_and_can_be_reassigned() -> Result<()> {
    let harness = Harness::start().await?;
    let mut client = harness.facilitator().await?;
    let elu = register_person(
        &mut client,
        person("Jean", "Ferrand", &[pb::PersonKind::ElectedOfficial]),
    )
    .await?;
    let in_days = |days: u64| Some(ts(SystemTime::now() + Duration::from_secs(days * 86_400)));
    let mut call = phone_call(&[&elu], "");
    call.follow_ups = vec![
        pb::FollowUpInput {
            description: "Envoyer le questionnaire".into(),
            due_at: in_days(7),
            owner: String::new(),
        },
        pb::FollowUpInput {
            description: "Proposer une visite du tiers-lieu".into(),
            due_at: None,
            owner: "bruno@cc-exemple.fr".into(),
        },
    ];
    let logged = client.log_interaction(call).await?.into_inner();
    let read = |client: &mut Client| {
        let mut client = client.clone();
        let id = logged.id.clone();
        async move {
            client
                .get_interaction(pb::GetInteractionRequest { interaction_id: id })
                .await
                .map(|reply| reply.into_inner())
        }
    };
    let view = read(&mut client).await?;
    let owners: Vec<&str> = view.follow_ups.iter().map(|f| f.owner.as_str()).collect();
    assert_eq!(
        owners,
        vec![view.facilitator.as_str(), "bruno@cc-exemple.fr"]
    );
    let (questionnaire, visit) = (
        view.follow_ups[0].follow_up_id.clone(),
        view.follow_ups[1].follow_up_id.clone(),
    );

    // Reassigned: another owner and a due date.
    let fortnight = in_days(14);
    client
        .reassign_follow_up(pb::ReassignFollowUpRequest {
            request_id: rid(),
            interaction_id: logged.id.clone(),
            follow_up_id: visit.clone(),
            owner: "chloe".into(),
            due_at: fortnight,
            ..Default::default()
        })
        .await?;
    let view = read(&mut client).await?;
    assert_eq!(view.follow_ups[1].owner, "chloe");
    assert_eq!(view.follow_ups[1].due_at, fortnight);

    // Refused, naming the field, the log unchanged.
    client
        .complete_follow_up(pb::CompleteFollowUpRequest {
            request_id: rid(),
            interaction_id: logged.id.clone(),
            expected_version: None,
            follow_up_id: questionnaire.clone(),
        })
        .await?;
    let head = harness.head().await?;
    let reassign = |follow_up: &str, owner: &str| pb::ReassignFollowUpRequest {
        request_id: rid(),
        interaction_id: logged.id.clone(),
        follow_up_id: follow_up.to_owned(),
        owner: owner.to_owned(),
        ..Default::default()
    };
    assert_refused(
        client
            .reassign_follow_up(reassign(&questionnaire, "chloe"))
            .await,
        Code::FailedPrecondition,
        None,
    );
    assert_refused(
        client
            .reassign_follow_up(reassign(&visit, "chloé lefèvre"))
            .await,
        Code::InvalidArgument,
        Some("owner"),
    );
    assert_refused(
        client.reassign_follow_up(reassign(&visit, "")).await,
        Code::InvalidArgument,
        Some("owner"),
    );
    assert_refused(
        client
            .reassign_follow_up(reassign(&uuid::Uuid::now_v7().to_string(), "chloe"))
            .await,
        Code::NotFound,
        None,
    );
    // Already hers: nothing recorded.
    client.reassign_follow_up(reassign(&visit, "chloe")).await?;
    assert_eq!(harness.head().await?, head);
    harness.stop().await?;
    Ok(())
}

/// Stakeholder mapping (issue 12, item 6): influence and interest (1 to 5) and
/// a position on the project, each assessment kept with who made it and when;
/// bad scores are refused naming the field; an archived stakeholder is not
/// assessed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stakeholders_are_assessed_and_every_assessment_is_kept() -> Result<()> {
    let harness = Harness::start().await?;
    let mut client = harness.facilitator().await?;
    let business = register_business(&mut client, "Scierie Moreau").await?;
    let assess = |influence: u32, interest: u32, position: pb::ProjectPosition| {
        pb::AssessStakeholderRequest {
            request_id: rid(),
            stakeholder_id: business.clone(),
            expected_version: None,
            influence,
            interest,
            position: position as i32,
        }
    };
    client
        .assess_stakeholder(assess(4, 2, pb::ProjectPosition::Unknown))
        .await?;
    client
        .assess_stakeholder(assess(5, 4, pb::ProjectPosition::Supportive))
        .await?;
    let read = client
        .get_stakeholder(pb::GetStakeholderRequest {
            stakeholder_id: business.clone(),
        })
        .await?
        .into_inner();
    let latest = read.assessment.clone().expect("assessed");
    assert_eq!(
        (latest.influence, latest.interest, latest.position),
        (5, 4, pb::ProjectPosition::Supportive as i32)
    );
    assert!(!latest.assessed_by.is_empty() && latest.assessed_at.is_some());
    assert_eq!(read.assessments.len(), 2);
    assert_eq!(read.assessments[0].influence, 4);

    let head = harness.head().await?;
    for (request, field) in [
        (assess(0, 3, pb::ProjectPosition::Neutral), "influence"),
        (assess(3, 6, pb::ProjectPosition::Neutral), "interest"),
        (assess(3, 3, pb::ProjectPosition::Unspecified), "position"),
    ] {
        assert_refused(
            client.assess_stakeholder(request).await,
            Code::InvalidArgument,
            Some(field),
        );
    }
    let mut unknown = assess(3, 3, pb::ProjectPosition::Neutral);
    unknown.stakeholder_id = uuid::Uuid::now_v7().to_string();
    assert_refused(
        client.assess_stakeholder(unknown).await,
        Code::NotFound,
        None,
    );
    assert_eq!(harness.head().await?, head);
    client
        .archive_stakeholder(pb::ArchiveStakeholderRequest {
            request_id: rid(),
            stakeholder_id: business.clone(),
            expected_version: None,
        })
        .await?;
    assert_refused(
        client
            .assess_stakeholder(assess(3, 3, pb::ProjectPosition::Neutral))
            .await,
        Code::FailedPrecondition,
        None,
    );
    harness.stop().await?;
    Ok(())
}
