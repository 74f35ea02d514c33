//! Reads by purpose (issue 11, item 4), through the real service: what each
//! role sees of a person and of a contact, RPC by RPC, and the access journal
//! that records exactly the reads that returned decrypted personal data.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;

use anyhow::Result;
use common::*;
use maillage_proto::v1 as pb;
use tonic::Code;

/// The people and the contact every case reads.
struct World {
    /// An élu (a maire mandate): a public role.
    elu: String,
    /// A business leader affiliated with the business: its representative.
    representative: String,
    /// An inhabitant, with no mandate and no affiliation.
    inhabitant: String,
    /// The business (an organisation: not personal data).
    business: String,
    /// A phone call with the three persons, with a subject, notes and a follow-up.
    call: String,
}

async fn world(harness: &Harness) -> Result<World> {
    let mut client = harness.facilitator().await?;
    let elu = client
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
        .into_inner()
        .id;
    let business = register_business(&mut client, "Menuiserie Durand").await?;
    let representative = register_person(
        &mut client,
        person("Rémi", "Garnier", &[pb::PersonKind::BusinessLeader]),
    )
    .await?;
    client
        .add_affiliation(pb::AddAffiliationRequest {
            request_id: rid(),
            stakeholder_id: representative.clone(),
            expected_version: None,
            organisation_id: business.clone(),
            role: "gérant".into(),
            started_at: Some(days_ago(30)),
        })
        .await?;
    let inhabitant = register_person(
        &mut client,
        person("Inès", "Durand", &[pb::PersonKind::Inhabitant]),
    )
    .await?;
    let call = client
        .log_interaction(phone_call(
            &[&elu, &representative, &inhabitant],
            "Inès hésite à reprendre le garage de son père",
        ))
        .await?
        .into_inner()
        .id;
    Ok(World {
        elu,
        representative,
        inhabitant,
        business,
        call,
    })
}

async fn get_stakeholder(
    client: &mut Client,
    id: &str,
) -> Result<tonic::Response<pb::Stakeholder>, tonic::Status> {
    client
        .get_stakeholder(pb::GetStakeholderRequest {
            stakeholder_id: id.to_string(),
        })
        .await
}

async fn person_of(client: &mut Client, id: &str) -> Result<pb::PersonProfile> {
    let view = get_stakeholder(client, id).await?.into_inner();
    assert!(!view.erased);
    Ok(view.person.expect("a person"))
}

async fn get_interaction(
    client: &mut Client,
    id: &str,
) -> Result<tonic::Response<pb::Interaction>, tonic::Status> {
    client
        .get_interaction(pb::GetInteractionRequest {
            interaction_id: id.to_string(),
        })
        .await
}

/// Every personal field is there.
fn assert_full(profile: &pb::PersonProfile, given: &str) {
    assert_eq!(profile.given_name, given);
    assert!(!profile.family_name.is_empty());
    assert!(profile.email.ends_with("@example.fr"), "{profile:?}");
    assert!(!profile.phone.is_empty());
    assert!(!profile.postal_address.is_empty());
    assert!(!profile.notes.is_empty());
    assert!(!profile.kinds.is_empty());
    assert_eq!(profile.commune_code, "11069");
}

/// The names only (a public role, read by an auditor).
fn assert_names_only(profile: &pb::PersonProfile, given: &str) {
    assert_eq!(profile.given_name, given);
    assert!(!profile.family_name.is_empty());
    assert_no_contact_details(profile);
}

/// Nothing personal: kinds and commune only.
fn assert_pseudonymous(profile: &pb::PersonProfile) {
    assert_eq!(profile.given_name, "", "{profile:?}");
    assert_eq!(profile.family_name, "", "{profile:?}");
    assert_no_contact_details(profile);
    assert!(!profile.kinds.is_empty());
    assert_eq!(profile.commune_code, "11069");
}

fn assert_no_contact_details(profile: &pb::PersonProfile) {
    assert_eq!(profile.email, "", "{profile:?}");
    assert_eq!(profile.phone, "", "{profile:?}");
    assert_eq!(profile.postal_address, "", "{profile:?}");
    assert_eq!(profile.notes, "", "{profile:?}");
}

/// Who, whom, when and how, without the free text.
fn assert_contact_without_text(call: &pb::Interaction) {
    assert_eq!(call.participants.len(), 3);
    assert_eq!(call.channel, pb::InteractionChannel::Phone as i32);
    assert!(call.occurred_at.is_some());
    assert_eq!(call.facilitator, "alice");
    assert!(!call.themes.is_empty());
    assert_eq!(call.subject, "", "{call:?}");
    assert_eq!(call.notes, "", "{call:?}");
    assert_eq!(call.follow_ups.len(), 1);
    assert_eq!(call.follow_ups[0].description, "", "{call:?}");
    assert!(!call.erased);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_role_reads_what_its_purpose_needs() -> Result<()> {
    let harness = Harness::start().await?;
    let world = world(&harness).await?;

    // facilitator and admin: every personal field.
    for token in [
        harness.tokens.of(Role::Facilitator),
        harness.tokens.of(Role::Admin),
    ] {
        let mut client = harness.client(token).await?;
        assert_full(&person_of(&mut client, &world.elu).await?, "Camille");
        assert_full(
            &person_of(&mut client, &world.representative).await?,
            "Rémi",
        );
        assert_full(&person_of(&mut client, &world.inhabitant).await?, "Inès");
        let view = get_stakeholder(&mut client, &world.inhabitant)
            .await?
            .into_inner();
        assert_eq!(view.disclosure, pb::Disclosure::Full as i32);
        let call = get_interaction(&mut client, &world.call)
            .await?
            .into_inner();
        assert_eq!(call.disclosure, pb::Disclosure::Full as i32);
        assert_eq!(call.notes, "Inès hésite à reprendre le garage de son père");
        assert_eq!(call.subject, "Projet de tiers-lieu à la Bastide");
        assert_eq!(call.follow_ups[0].description, "Envoyer le questionnaire");
    }

    // auditor: the names of the élu and of the representative, nothing else.
    let mut auditor = harness.client(harness.tokens.of(Role::Auditor)).await?;
    assert_names_only(&person_of(&mut auditor, &world.elu).await?, "Camille");
    assert_names_only(
        &person_of(&mut auditor, &world.representative).await?,
        "Rémi",
    );
    assert_pseudonymous(&person_of(&mut auditor, &world.inhabitant).await?);
    assert_contact_without_text(
        &get_interaction(&mut auditor, &world.call)
            .await?
            .into_inner(),
    );
    let view = get_stakeholder(&mut auditor, &world.elu)
        .await?
        .into_inner();
    assert_eq!(view.disclosure, pb::Disclosure::PublicRoles as i32);
    assert!(!view.erased, "withheld is not erased");
    let call = get_interaction(&mut auditor, &world.call)
        .await?
        .into_inner();
    assert_eq!(call.disclosure, pb::Disclosure::PublicRoles as i32);

    // analyst: no person's name, no contact detail, no free text.
    let mut analyst = harness.client(harness.tokens.of(Role::Analyst)).await?;
    for id in [&world.elu, &world.representative, &world.inhabitant] {
        let view = get_stakeholder(&mut analyst, id).await?.into_inner();
        assert!(!view.mandates.is_empty() || id != &world.elu);
        assert_pseudonymous(view.person.as_ref().expect("a person"));
        assert_eq!(view.disclosure, pb::Disclosure::Pseudonymous as i32);
        assert!(!view.erased, "withheld is not erased");
    }
    let call = get_interaction(&mut analyst, &world.call)
        .await?
        .into_inner();
    assert_contact_without_text(&call);
    assert_eq!(call.disclosure, pb::Disclosure::Pseudonymous as i32);

    // Organisations are not personal data: every reader sees their name.
    for token in [
        harness.tokens.of(Role::Facilitator),
        harness.tokens.of(Role::Auditor),
        harness.tokens.of(Role::Analyst),
    ] {
        let mut client = harness.client(token).await?;
        let business = get_stakeholder(&mut client, &world.business)
            .await?
            .into_inner();
        assert_eq!(
            business.organisation.expect("an organisation").name,
            "Menuiserie Durand"
        );
    }

    // tool and secretary read nothing of the register.
    for token in [
        harness.tokens.of(Role::Tool),
        harness.tokens.of(Role::Secretary),
    ] {
        let mut client = harness.client(token).await?;
        let refused = get_stakeholder(&mut client, &world.elu).await.unwrap_err();
        assert_eq!(refused.code(), Code::PermissionDenied);
        let refused = get_interaction(&mut client, &world.call).await.unwrap_err();
        assert_eq!(refused.code(), Code::PermissionDenied);
    }
    harness.stop().await?;
    Ok(())
}

/// A read with a `maillage-purpose` header.
fn with_purpose<T>(message: T, purpose: &[u8]) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.metadata_mut().insert(
        "maillage-purpose",
        tonic::metadata::MetadataValue::try_from(purpose).expect("a header value"),
    );
    request
}

/// (principal, rpc, subject kind, subject id) of each entry, in journal order.
fn summary(entries: &[pb::AccessEntry]) -> Vec<(String, String, String, String)> {
    entries
        .iter()
        .map(|entry| {
            (
                entry.principal.clone(),
                entry.rpc.clone(),
                entry.subject_kind.clone(),
                entry.subject_id.clone(),
            )
        })
        .collect()
}

fn read(principal: &str, rpc: &str, kind: &str, id: &str) -> (String, String, String, String) {
    (principal.into(), rpc.into(), kind.into(), id.into())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_access_journal_records_exactly_the_decrypted_reads() -> Result<()> {
    let harness = Harness::start().await?;
    let world = world(&harness).await?;
    let log_head = harness.head().await?;
    assert!(
        harness.access_entries().await?.is_empty(),
        "writes are not reads"
    );

    // Reads that return no decrypted personal data record nothing: an
    // analyst's, an auditor's of an inhabitant or of a contact, anyone's of an
    // organisation, refused ones, unknown ids.
    let mut analyst = harness.client(harness.tokens.of(Role::Analyst)).await?;
    let mut auditor = harness.client(harness.tokens.of(Role::Auditor)).await?;
    let mut facilitator = harness.facilitator().await?;
    for id in [
        &world.elu,
        &world.representative,
        &world.inhabitant,
        &world.business,
    ] {
        get_stakeholder(&mut analyst, id).await?;
    }
    get_interaction(&mut analyst, &world.call).await?;
    get_stakeholder(&mut auditor, &world.inhabitant).await?;
    get_stakeholder(&mut auditor, &world.business).await?;
    get_interaction(&mut auditor, &world.call).await?;
    get_stakeholder(&mut facilitator, &world.business).await?;
    let mut tool = harness.client(harness.tokens.of(Role::Tool)).await?;
    assert_eq!(
        get_stakeholder(&mut tool, &world.elu)
            .await
            .unwrap_err()
            .code(),
        Code::PermissionDenied
    );
    let unknown = uuid::Uuid::now_v7().to_string();
    assert_eq!(
        get_stakeholder(&mut facilitator, &unknown)
            .await
            .unwrap_err()
            .code(),
        Code::NotFound
    );
    assert!(harness.access_entries().await?.is_empty());

    // The decrypted reads, each recorded once, in order, with its purpose.
    facilitator
        .get_stakeholder(with_purpose(
            pb::GetStakeholderRequest {
                stakeholder_id: world.inhabitant.clone(),
            },
            "  préparer   la réunion publique  ".as_bytes(),
        ))
        .await?;
    facilitator
        .get_interaction(with_purpose(
            pb::GetInteractionRequest {
                interaction_id: world.call.clone(),
            },
            &[b'x'; 1_000],
        ))
        .await?;
    get_stakeholder(&mut auditor, &world.elu).await?;
    get_stakeholder(&mut auditor, &world.representative).await?;
    let mut admin = harness.admin().await?;
    get_stakeholder(&mut admin, &world.elu).await?;
    let export = admin
        .export_person_data(pb::ExportPersonDataRequest {
            stakeholder_id: world.inhabitant.clone(),
        })
        .await?
        .into_inner();
    assert_eq!(export.stakeholder_id, world.inhabitant);

    let entries = harness.access_entries().await?;
    assert_eq!(
        summary(&entries),
        vec![
            read("alice", "GetStakeholder", "person", &world.inhabitant),
            read("alice", "GetInteraction", "interaction", &world.call),
            read("aude", "GetStakeholder", "person", &world.elu),
            read("aude", "GetStakeholder", "person", &world.representative),
            read("adam", "GetStakeholder", "person", &world.elu),
            read("adam", "ExportPersonData", "person", &world.inhabitant),
        ]
    );
    assert_eq!(entries[0].purpose, "préparer la réunion publique");
    assert_eq!(
        entries[1].purpose,
        "x".repeat(200),
        "capped at 200 characters"
    );
    assert_eq!(entries[2].purpose, "", "no purpose given");
    assert_eq!(entries[0].disclosure, pb::Disclosure::Full as i32);
    assert_eq!(entries[2].disclosure, pb::Disclosure::PublicRoles as i32);
    for (index, entry) in entries.iter().enumerate() {
        assert_eq!(entry.context, "stakeholders");
        assert_eq!(entry.position, index as u64 + 1);
        assert!(entry.read_at.is_some());
        assert!(!entry.request_id.is_empty());
        // No personal data in the journal.
        let text = format!("{entry:?}");
        for personal in [
            "Camille",
            "Martin",
            "Rémi",
            "Inès",
            "example.fr",
            "garage",
            "Cité",
        ] {
            assert!(!text.contains(personal), "{personal} in {text}");
        }
    }
    // The journal is not the event log: reads append nothing there.
    assert_eq!(harness.head().await?, log_head);

    // One subject's reads.
    let mut journal = harness
        .access_journal(harness.tokens.of(Role::Admin))
        .await?;
    let of_elu = journal
        .list_access(pb::ListAccessRequest {
            subject_id: world.elu.clone(),
            ..Default::default()
        })
        .await?
        .into_inner();
    assert_eq!(of_elu.entries.len(), 2);
    assert_eq!(of_elu.head_position, 6);
    let page = journal
        .list_access(pb::ListAccessRequest {
            from_position: 5,
            limit: 1,
            ..Default::default()
        })
        .await?
        .into_inner();
    assert_eq!(summary(&page.entries), summary(&entries[4..5]));

    // Only admin and auditor read the journal; reading it is not journalled.
    for token in [
        harness.tokens.of(Role::Analyst),
        harness.tokens.of(Role::Facilitator),
        harness.tokens.of(Role::Tool),
        harness.tokens.of(Role::Secretary),
    ] {
        let refused = harness
            .access_journal(token)
            .await?
            .list_access(pb::ListAccessRequest::default())
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::PermissionDenied);
    }

    // A hash chain of its own, durable across a restart.
    let verified = journal
        .verify_access(pb::VerifyAccessRequest::default())
        .await?
        .into_inner();
    assert!(verified.intact, "{}", verified.reason);
    assert_eq!(verified.position, 6);
    let dir = harness.stop().await?;
    let harness = Harness::start_in(dir).await?;
    assert_eq!(summary(&harness.access_entries().await?), summary(&entries));
    harness.stop().await?;
    Ok(())
}

/// The (field, text, channel) of each value of a correction's side.
fn sides(values: &[pb::InteractionFieldValue]) -> Vec<(&str, &str, i32)> {
    values
        .iter()
        .map(|value| (value.field.as_str(), value.text.as_str(), value.channel))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrected_contact_shows_each_earlier_value_to_whom_may_read_it() -> Result<()> {
    let harness = Harness::start().await?;
    let world = world(&harness).await?;
    let mut alice = harness.facilitator().await?;
    // Two corrections: the channel and the notes, then the notes again.
    for (channel, notes) in [
        (
            Some(pb::InteractionChannel::Video),
            "Inès reprend le garage",
        ),
        (None, "Inès reprend le garage avec sa sœur"),
    ] {
        alice
            .correct_interaction(pb::CorrectInteractionRequest {
                request_id: rid(),
                interaction_id: world.call.clone(),
                reason: "précisé après rappel".into(),
                channel: channel.map(|channel| channel as i32),
                notes: Some(notes.into()),
                ..Default::default()
            })
            .await?;
    }
    let phone = pb::InteractionChannel::Phone as i32;
    let video = pb::InteractionChannel::Video as i32;
    let original = "Inès hésite à reprendre le garage de son père";
    let call = get_interaction(&mut alice, &world.call).await?.into_inner();
    let [first, second] = &call.corrections[..] else {
        panic!("two corrections: {call:?}")
    };
    assert_eq!(
        sides(&first.before),
        [("channel", "", phone), ("notes", original, 0)]
    );
    assert_eq!(
        sides(&first.after),
        [
            ("channel", "", video),
            ("notes", "Inès reprend le garage", 0)
        ]
    );
    assert_eq!(
        sides(&second.before),
        [("notes", "Inès reprend le garage", 0)]
    );
    assert_eq!(
        sides(&second.after),
        [("notes", "Inès reprend le garage avec sa sœur", 0)]
    );

    // An analyst and an auditor: the channel before and after, no text.
    for role in [Role::Analyst, Role::Auditor] {
        let mut reader = harness.client(harness.tokens.of(role)).await?;
        let call = get_interaction(&mut reader, &world.call)
            .await?
            .into_inner();
        assert_eq!(
            sides(&call.corrections[0].before),
            [("channel", "", phone), ("notes", "", 0)],
            "{role:?}"
        );
        assert_eq!(
            sides(&call.corrections[1].after),
            [("notes", "", 0)],
            "{role:?}"
        );
    }

    // Erased with a participant: every earlier version of the text goes too.
    let mut admin = harness.admin().await?;
    admin
        .erase_person(pb::ErasePersonRequest {
            request_id: rid(),
            stakeholder_id: world.inhabitant.clone(),
            expected_version: None,
            reason: "RGPD art. 17".into(),
        })
        .await?;
    let call = get_interaction(&mut alice, &world.call).await?.into_inner();
    assert!(call.erased);
    assert_eq!(
        sides(&call.corrections[0].before),
        [("channel", "", phone), ("notes", "", 0)]
    );
    assert!(call
        .corrections
        .iter()
        .flat_map(|correction| correction.before.iter().chain(&correction.after))
        .all(|value| value.text.is_empty()));

    // A malformed id is refused, naming the field.
    let refused = get_interaction(&mut alice, "pas-un-id").await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(refused.message().contains("interaction_id"), "{refused:?}");
    harness.stop().await?;
    Ok(())
}
