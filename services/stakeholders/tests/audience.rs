//! `ExportAudience` through the real service on sled: only persons whose
//! current consent covers the channel AND the purpose (withdrawn a moment
//! before, another purpose, a consent recorded without purposes, archived,
//! erased: excluded), only the fields the channel needs, paged, by role; each
//! page recorded as an `AudienceExported` fact with no personal data, each
//! person shown in the access journal; bad requests refused naming the field
//! and changing nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;

use std::collections::BTreeSet;

use anyhow::Result;
use common::*;
use maillage_proto::v1 as pb;
use prost::Message;
use tonic::Code;

use pb::ConsentChannel as Channel;
use pb::ConsentPurpose as Purpose;

/// Records a consent on `channel` covering `purposes`.
async fn consent(
    client: &mut Client,
    id: &str,
    channel: Channel,
    purposes: &[Purpose],
) -> Result<()> {
    client
        .record_consent(pb::RecordConsentRequest {
            request_id: rid(),
            stakeholder_id: id.into(),
            expected_version: None,
            channel: channel as i32,
            legal_basis: pb::LegalBasis::Consent as i32,
            purposes: purposes.iter().map(|purpose| *purpose as i32).collect(),
        })
        .await?;
    Ok(())
}

/// Withdraws `purposes` of a channel's consent (none: the whole consent).
async fn withdraw(
    client: &mut Client,
    id: &str,
    channel: Channel,
    purposes: &[Purpose],
) -> Result<()> {
    client
        .withdraw_consent(pb::WithdrawConsentRequest {
            request_id: rid(),
            stakeholder_id: id.into(),
            expected_version: None,
            channel: channel as i32,
            purposes: purposes.iter().map(|purpose| *purpose as i32).collect(),
        })
        .await?;
    Ok(())
}

fn export(channel: Channel, purpose: Purpose) -> pb::ExportAudienceRequest {
    pb::ExportAudienceRequest {
        channel: channel as i32,
        purpose: purpose as i32,
        ..Default::default()
    }
}

fn ids(response: &pb::ExportAudienceResponse) -> BTreeSet<String> {
    response
        .members
        .iter()
        .map(|member| member.stakeholder_id.clone())
        .collect()
}

/// The `AudienceExported` facts of the log, in order.
async fn exports(harness: &Harness) -> Result<Vec<(pb::EventEnvelope, pb::AudienceExported)>> {
    Ok(harness
        .all_events()
        .await?
        .into_iter()
        .filter(|envelope| envelope.event_type == "maillage.v1.AudienceExported")
        .map(|envelope| {
            let exported = pb::AudienceExported::decode(envelope.payload.as_slice()).unwrap();
            (envelope, exported)
        })
        .collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_holds_only_current_consents_for_the_channel_and_the_purpose() -> Result<()> {
    let harness = Harness::start().await?;
    let mut facilitator = harness.facilitator().await?;
    let mut admin = harness.admin().await?;
    let inhabitant = [pb::PersonKind::Inhabitant];
    let register = |given: &'static str, family: &'static str| person(given, family, &inhabitant);

    // Anne: email for the newsletter and invitations, post for the newsletter.
    let anne = register_person(&mut facilitator, register("Anne", "Aubert")).await?;
    consent(
        &mut facilitator,
        &anne,
        Channel::Email,
        &[Purpose::Newsletter, Purpose::Invitations],
    )
    .await?;
    consent(
        &mut facilitator,
        &anne,
        Channel::Post,
        &[Purpose::Newsletter],
    )
    .await?;
    // Bruno: email for surveys only.
    let bruno = register_person(&mut facilitator, register("Bruno", "Bernard")).await?;
    consent(
        &mut facilitator,
        &bruno,
        Channel::Email,
        &[Purpose::Surveys],
    )
    .await?;
    // Chloé: email for the newsletter, withdrawn (whole channel) just before.
    let chloe = register_person(&mut facilitator, register("Chloé", "Caron")).await?;
    consent(
        &mut facilitator,
        &chloe,
        Channel::Email,
        &[Purpose::Newsletter],
    )
    .await?;
    // Denis: email for the newsletter and surveys; the newsletter withdrawn just before.
    let denis = register_person(&mut facilitator, register("Denis", "Dupont")).await?;
    consent(
        &mut facilitator,
        &denis,
        Channel::Email,
        &[Purpose::Newsletter, Purpose::Surveys],
    )
    .await?;
    // Émile: an email consent recorded without purposes (as every consent before them).
    let emile = register_person(&mut facilitator, register("Émile", "Estève")).await?;
    consent(&mut facilitator, &emile, Channel::Email, &[]).await?;
    // Fanny: the phone for the newsletter.
    let fanny = register_person(&mut facilitator, register("Fanny", "Fabre")).await?;
    consent(
        &mut facilitator,
        &fanny,
        Channel::Phone,
        &[Purpose::Newsletter],
    )
    .await?;
    // Gilles: email for the newsletter, archived.
    let gilles = register_person(&mut facilitator, register("Gilles", "Girard")).await?;
    consent(
        &mut facilitator,
        &gilles,
        Channel::Email,
        &[Purpose::Newsletter],
    )
    .await?;
    // Hélène: email for the newsletter, erased.
    let helene = register_person(&mut facilitator, register("Hélène", "Henry")).await?;
    consent(
        &mut facilitator,
        &helene,
        Channel::Email,
        &[Purpose::Newsletter],
    )
    .await?;
    // Igor: email consent for the newsletter but no email address.
    let mut no_email = register("Igor", "Imbert");
    no_email.email = String::new();
    let igor = register_person(&mut facilitator, no_email).await?;
    consent(
        &mut facilitator,
        &igor,
        Channel::Email,
        &[Purpose::Newsletter],
    )
    .await?;

    let mut tool = harness.client(harness.tokens.of(Role::Tool)).await?;
    let before = tool
        .export_audience(export(Channel::Email, Purpose::Newsletter))
        .await?
        .into_inner();
    assert_eq!(
        ids(&before),
        BTreeSet::from([
            anne.clone(),
            chloe.clone(),
            denis.clone(),
            gilles.clone(),
            helene.clone()
        ])
    );

    // A moment before the export: withdrawals, archiving, erasure.
    withdraw(&mut facilitator, &chloe, Channel::Email, &[]).await?;
    withdraw(
        &mut facilitator,
        &denis,
        Channel::Email,
        &[Purpose::Newsletter],
    )
    .await?;
    facilitator
        .archive_stakeholder(pb::ArchiveStakeholderRequest {
            request_id: rid(),
            stakeholder_id: gilles.clone(),
            expected_version: None,
        })
        .await?;
    admin
        .erase_person(pb::ErasePersonRequest {
            request_id: rid(),
            stakeholder_id: helene.clone(),
            expected_version: None,
            reason: "RGPD art. 17, demande n° 2026-031".into(),
        })
        .await?;

    let newsletter = tool
        .export_audience(export(Channel::Email, Purpose::Newsletter))
        .await?
        .into_inner();
    assert_eq!(ids(&newsletter), BTreeSet::from([anne.clone()]));
    assert_eq!(newsletter.total, 2, "Anne, and Igor who has no email");
    assert_eq!(newsletter.without_address, 1);
    // Only what the email channel needs.
    let member = &newsletter.members[0];
    assert_eq!(
        (
            member.given_name.as_str(),
            member.family_name.as_str(),
            member.email.as_str()
        ),
        ("Anne", "Aubert", "anne.aubert@example.fr")
    );
    assert!(member.phone.is_empty() && member.postal_address.is_empty());

    // Denis still consents to surveys: another purpose, another audience.
    let surveys = tool
        .export_audience(export(Channel::Email, Purpose::Surveys))
        .await?
        .into_inner();
    assert_eq!(
        ids(&surveys),
        BTreeSet::from([bruno.clone(), denis.clone()])
    );
    // Nobody consented to news of the project by email (Émile's consent has no purpose).
    let information = tool
        .export_audience(export(Channel::Email, Purpose::ProjectInformation))
        .await?
        .into_inner();
    assert!(information.members.is_empty() && information.total == 0);

    // The phone: the phone number only; the post: the postal address only.
    let phone = tool
        .export_audience(export(Channel::Phone, Purpose::Newsletter))
        .await?
        .into_inner();
    assert_eq!(ids(&phone), BTreeSet::from([fanny.clone()]));
    let member = &phone.members[0];
    assert_eq!(member.phone, "+33468112233");
    assert!(member.email.is_empty() && member.postal_address.is_empty());
    let post = tool
        .export_audience(export(Channel::Post, Purpose::Newsletter))
        .await?
        .into_inner();
    assert_eq!(ids(&post), BTreeSet::from([anne.clone()]));
    let member = &post.members[0];
    assert_eq!(member.postal_address, "1 rue de la Cité, 11000 Carcassonne");
    assert!(member.email.is_empty() && member.phone.is_empty());
    assert_eq!(member.given_name, "Anne");

    // The search filter knows purposes too.
    let found = facilitator
        .search_stakeholders(pb::SearchStakeholdersRequest {
            filter: Some(pb::StakeholderFilter {
                consent: Some(pb::ConsentFilter {
                    channel: Channel::Email as i32,
                    purpose: Purpose::Surveys as i32,
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await?
        .into_inner();
    let found: BTreeSet<String> = found
        .stakeholders
        .iter()
        .map(|row| row.stakeholder_id.clone())
        .collect();
    assert_eq!(found, BTreeSet::from([bruno.clone(), denis.clone()]));
    // GetStakeholder shows the purposes left.
    let denis_now = facilitator
        .get_stakeholder(pb::GetStakeholderRequest {
            stakeholder_id: denis.clone(),
        })
        .await?
        .into_inner();
    assert_eq!(
        denis_now.consents[0].purposes,
        vec![Purpose::Surveys as i32]
    );
    let _ = (emile, igor);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_export_page_is_recorded_without_personal_data_and_journalled() -> Result<()> {
    let harness = Harness::start().await?;
    let mut facilitator = harness.facilitator().await?;
    let mut members = BTreeSet::new();
    for (given, family) in [("Anne", "Aubert"), ("Bruno", "Bernard"), ("Chloé", "Caron")] {
        let id = register_person(
            &mut facilitator,
            person(given, family, &[pb::PersonKind::Inhabitant]),
        )
        .await?;
        consent(
            &mut facilitator,
            &id,
            Channel::Email,
            &[Purpose::Invitations],
        )
        .await?;
        members.insert(id);
    }
    // A segment: the persons of Carcassonne.
    let segment = facilitator
        .define_segment(pb::DefineSegmentRequest {
            request_id: rid(),
            name: "Habitants de Carcassonne".into(),
            filter: Some(pb::StakeholderFilter {
                territories: vec![pb::TerritoryRef {
                    level: pb::TerritoryLevel::Commune as i32,
                    code: "11069".into(),
                }],
                ..Default::default()
            }),
            ..Default::default()
        })
        .await?
        .into_inner()
        .id;

    let mut tool = harness.client(harness.tokens.of(Role::Tool)).await?;
    let mut request = export(Channel::Email, Purpose::Invitations);
    request.segment_id = segment.clone();
    request.page = Some(pb::PageRequest {
        page_size: 2,
        page_token: String::new(),
    });
    let first = tool.export_audience(request.clone()).await?.into_inner();
    assert_eq!((first.members.len(), first.total), (2, 3));
    let token = first.page.clone().unwrap_or_default().next_page_token;
    assert!(!token.is_empty());
    // A token of this export does not open for another purpose.
    let mut other = export(Channel::Email, Purpose::Newsletter);
    other.segment_id = segment.clone();
    other.page = Some(pb::PageRequest {
        page_size: 2,
        page_token: token.clone(),
    });
    let refused = tool.export_audience(other).await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(refused.message().contains("page.page_token"), "{refused:?}");
    request.page = Some(pb::PageRequest {
        page_size: 2,
        page_token: token,
    });
    let second = tool.export_audience(request).await?.into_inner();
    assert_eq!(second.members.len(), 1);
    assert!(second
        .page
        .clone()
        .unwrap_or_default()
        .next_page_token
        .is_empty());
    let exported: BTreeSet<String> = ids(&first).union(&ids(&second)).cloned().collect();
    assert_eq!(exported, members);

    // Each page is one fact: who, which segment, channel, purpose, how many.
    let recorded = exports(&harness).await?;
    assert_eq!(recorded.len(), 2);
    for ((envelope, fact), (count, continued, reply)) in recorded
        .iter()
        .zip([(2, false, &first.export_id), (1, true, &second.export_id)])
    {
        assert_eq!(&fact.export_id, reply);
        assert_eq!(envelope.stream_id, format!("audience-{reply}"));
        assert_eq!(fact.segment_id, segment);
        assert_eq!(fact.channel, Channel::Email as i32);
        assert_eq!(fact.purpose, Purpose::Invitations as i32);
        assert_eq!(
            (fact.exported, fact.total, fact.continued),
            (count, 3, continued)
        );
        assert_eq!(fact.exported_by, "bi-tool");
        assert_eq!(envelope.metadata.as_ref().unwrap().actor, "bi-tool");
        // No personal data in the fact.
        let payload = String::from_utf8_lossy(&envelope.payload);
        for needle in ["Anne", "Aubert", "Bruno", "Chloé", "example.fr", "Cité"] {
            assert!(!payload.contains(needle), "{needle} in {payload}");
        }
    }
    // Each person shown is in the access journal.
    let journalled: BTreeSet<String> = harness
        .access_entries()
        .await?
        .into_iter()
        .filter(|entry| entry.rpc == "ExportAudience" && entry.principal == "bi-tool")
        .map(|entry| entry.subject_id)
        .collect();
    assert_eq!(journalled, members);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_tools_facilitators_and_admins_export_and_tools_read_nothing_else() -> Result<()> {
    let harness = Harness::start().await?;
    let mut facilitator = harness.facilitator().await?;
    let anne = register_person(
        &mut facilitator,
        person("Anne", "Aubert", &[pb::PersonKind::Inhabitant]),
    )
    .await?;
    consent(
        &mut facilitator,
        &anne,
        Channel::Email,
        &[Purpose::Newsletter],
    )
    .await?;
    let request = export(Channel::Email, Purpose::Newsletter);
    for token in [
        harness.tokens.of(Role::Tool),
        harness.tokens.of(Role::Facilitator),
        harness.tokens.of(Role::Admin),
    ] {
        let reply = harness
            .client(token)
            .await?
            .export_audience(request.clone())
            .await?
            .into_inner();
        assert_eq!(ids(&reply), BTreeSet::from([anne.clone()]));
    }
    for token in [
        harness.tokens.of(Role::Analyst),
        harness.tokens.of(Role::Auditor),
        harness.tokens.of(Role::Secretary),
    ] {
        let denied = harness
            .client(token)
            .await?
            .export_audience(request.clone())
            .await
            .unwrap_err();
        assert_eq!(denied.code(), Code::PermissionDenied, "{denied:?}");
    }
    let anonymous = harness
        .anonymous()
        .await?
        .export_audience(request.clone())
        .await
        .unwrap_err();
    assert_eq!(anonymous.code(), Code::Unauthenticated);
    // The tool gets no analyst's reads: no search, no stakeholder.
    let mut tool = harness.client(harness.tokens.of(Role::Tool)).await?;
    let search = tool
        .search_stakeholders(pb::SearchStakeholdersRequest::default())
        .await
        .unwrap_err();
    assert_eq!(search.code(), Code::PermissionDenied);
    let get = tool
        .get_stakeholder(pb::GetStakeholderRequest {
            stakeholder_id: anne.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(get.code(), Code::PermissionDenied);
    // Three exports recorded, none for the refused calls.
    assert_eq!(exports(&harness).await?.len(), 3);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_export_requests_are_refused_naming_the_field_and_record_nothing() -> Result<()> {
    let harness = Harness::start().await?;
    let mut facilitator = harness.facilitator().await?;
    let anne = register_person(
        &mut facilitator,
        person("Anne", "Aubert", &[pb::PersonKind::Inhabitant]),
    )
    .await?;
    consent(
        &mut facilitator,
        &anne,
        Channel::Email,
        &[Purpose::Newsletter],
    )
    .await?;
    let head = harness.head().await?;
    let mut tool = harness.client(harness.tokens.of(Role::Tool)).await?;
    let good = export(Channel::Email, Purpose::Newsletter);
    let cases = [
        (
            "channel",
            pb::ExportAudienceRequest {
                channel: 0,
                ..good.clone()
            },
        ),
        (
            "channel",
            pb::ExportAudienceRequest {
                channel: 42,
                ..good.clone()
            },
        ),
        (
            "purpose",
            pb::ExportAudienceRequest {
                purpose: 0,
                ..good.clone()
            },
        ),
        (
            "purpose",
            pb::ExportAudienceRequest {
                purpose: 42,
                ..good.clone()
            },
        ),
        (
            "filter.name_query",
            pb::ExportAudienceRequest {
                filter: Some(pb::StakeholderFilter {
                    name_query: "aubert".into(),
                    ..Default::default()
                }),
                ..good.clone()
            },
        ),
        (
            "filter.affiliated_to",
            pb::ExportAudienceRequest {
                filter: Some(pb::StakeholderFilter {
                    affiliated_to: "nope".into(),
                    ..Default::default()
                }),
                ..good.clone()
            },
        ),
        (
            "segment_id",
            pb::ExportAudienceRequest {
                segment_id: "not-a-segment".into(),
                ..good.clone()
            },
        ),
        (
            "page.page_token",
            pb::ExportAudienceRequest {
                page: Some(pb::PageRequest {
                    page_size: 1,
                    page_token: "forged".into(),
                }),
                ..good.clone()
            },
        ),
    ];
    for (field, request) in cases {
        let refused = tool.export_audience(request).await.unwrap_err();
        assert_eq!(
            refused.code(),
            Code::InvalidArgument,
            "{field}: {refused:?}"
        );
        assert!(refused.message().contains(field), "{field}: {refused:?}");
    }
    // An unknown segment.
    let unknown = tool
        .export_audience(pb::ExportAudienceRequest {
            segment_id: uuid::Uuid::now_v7().to_string(),
            ..good.clone()
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
    assert_eq!(
        harness.head().await?,
        head,
        "a refused export records nothing"
    );
    // Bad purposes in consents are refused too, naming the field.
    let bad = facilitator
        .record_consent(pb::RecordConsentRequest {
            request_id: rid(),
            stakeholder_id: anne.clone(),
            expected_version: None,
            channel: Channel::Email as i32,
            legal_basis: pb::LegalBasis::Consent as i32,
            purposes: vec![Purpose::Newsletter as i32, 0],
        })
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert!(bad.message().contains("purposes[1]"), "{bad:?}");
    let not_covered = facilitator
        .withdraw_consent(pb::WithdrawConsentRequest {
            request_id: rid(),
            stakeholder_id: anne.clone(),
            expected_version: None,
            channel: Channel::Email as i32,
            purposes: vec![Purpose::Surveys as i32],
        })
        .await
        .unwrap_err();
    assert_eq!(not_covered.code(), Code::FailedPrecondition);
    assert_eq!(harness.head().await?, head);
    Ok(())
}
