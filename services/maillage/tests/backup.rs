//! The backup procedure of docs/operations.md, exercised: stop `maillage up`, copy the data
//! directory whole, start a platform on the copy; its logs verify with the same heads and
//! it answers with the same state.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod process;

use std::path::Path;
use std::process::Command;

use maillage_proto::v1::governance_client::GovernanceClient;
use maillage_proto::v1::organisation_profile::Details;
use maillage_proto::v1::stakeholders_client::StakeholdersClient;
use maillage_proto::v1::{
    DefineCollegeRequest, FoundConsortiumRequest, GetConsortiumRequest, LocalAuthorityDetails,
    OrganisationProfile, RegisterOrganisationRequest, TerritoryLevel, TerritoryRef,
};
use process::{maillage, start, stop, text};
use tonic::Request;

fn authed<T>(message: T, dir: &Path) -> Request<T> {
    let token = std::fs::read_to_string(dir.join("maillage-data/admin.token")).unwrap();
    let mut request = Request::new(message);
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {}", token.trim()).parse().unwrap(),
    );
    request
}

/// Registers the commune of Colmar as a collectivité, then founds a
/// consortium with two colleges (naming the registration's position, so that
/// governance's register replica has seen it); returns its id.
async fn found_consortium(dir: &Path, port: u16) -> String {
    let mut stakeholders = StakeholdersClient::connect(format!("http://127.0.0.1:{port}"))
        .await
        .unwrap();
    let collectivite = stakeholders
        .register_organisation(authed(
            RegisterOrganisationRequest {
                request_id: "backup-collectivite".into(),
                profile: Some(OrganisationProfile {
                    name: "Commune de Colmar".into(),
                    commune_code: "68066".into(),
                    details: Some(Details::LocalAuthority(LocalAuthorityDetails {
                        authority: Some(TerritoryRef {
                            level: TerritoryLevel::Commune as i32,
                            code: "68066".into(),
                        }),
                    })),
                    ..Default::default()
                }),
            },
            dir,
        ))
        .await
        .unwrap()
        .into_inner();
    let mut governance = GovernanceClient::connect(format!("http://127.0.0.1:{port}"))
        .await
        .unwrap();
    let mut found = authed(
        FoundConsortiumRequest {
            request_id: "backup-found".into(),
            name: "Consortium du Val".into(),
            founding_collectivite_id: collectivite.id,
            territory: vec![TerritoryRef {
                level: TerritoryLevel::Commune as i32,
                code: "68294".into(),
            }],
            purpose: "Animer les tiers-lieux".into(),
            charter: "Charte".into(),
        },
        dir,
    );
    found.metadata_mut().insert(
        "maillage-after",
        format!("stakeholders={}", collectivite.position)
            .parse()
            .unwrap(),
    );
    let founded = governance
        .found_consortium(found)
        .await
        .unwrap()
        .into_inner();
    for (code, weight) in [("collectivites", 40), ("entreprises", 30)] {
        governance
            .define_college(authed(
                DefineCollegeRequest {
                    request_id: format!("backup-college-{code}"),
                    consortium_id: founded.id.clone(),
                    college_code: code.into(),
                    name: code.into(),
                    weight,
                    ..Default::default()
                },
                dir,
            ))
            .await
            .unwrap();
    }
    founded.id
}

async fn consortium(dir: &Path, port: u16, id: &str) -> String {
    let mut governance = GovernanceClient::connect(format!("http://127.0.0.1:{port}"))
        .await
        .unwrap();
    let view = governance
        .get_consortium(authed(
            GetConsortiumRequest {
                consortium_id: id.into(),
            },
            dir,
        ))
        .await
        .unwrap()
        .into_inner();
    format!("{view:?}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_of_a_stopped_data_directory_restores_the_platform() {
    let original = tempfile::tempdir().unwrap();
    let (up, port) = start(original.path());
    let id = found_consortium(original.path(), port).await;
    let state = consortium(original.path(), port, &id).await;
    let heads = text(&maillage(original.path(), port, &["verify"]).stdout);
    assert!(
        heads.contains("governance    intact  head         3"),
        "{heads}"
    );
    stop(up);

    // The documented procedure: the service stopped, the data directory copied whole.
    let restored = tempfile::tempdir().unwrap();
    let copied = Command::new("cp")
        .arg("-a")
        .arg(original.path().join("maillage-data"))
        .arg(restored.path())
        .status()
        .unwrap();
    assert!(copied.success());

    let (up, port) = start(restored.path());
    let restored_heads = maillage(restored.path(), port, &["verify"]);
    assert!(
        restored_heads.status.success(),
        "{}",
        text(&restored_heads.stderr)
    );
    assert_eq!(
        text(&restored_heads.stdout),
        heads,
        "same heads: the witness hashes match"
    );
    assert_eq!(consortium(restored.path(), port, &id).await, state);
    stop(up);
}
