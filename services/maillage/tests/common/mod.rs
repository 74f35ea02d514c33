//! Shared by the demo, report and erasure tests: a real platform in-process
//! (every service behind one listener the test kit holds, sled in a temp dir),
//! the demo played against it, and the real `maillage` binary run against it.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use maillage::cli::client::{Authed, Connection};
use maillage::cli::demo::play_and_report;
use maillage::demo::Outcome;
use maillage::report::ReportData;
use maillage_proto::v1 as pb;
use maillage_proto::v1::engagement_client::EngagementClient;
use maillage_service_kit::testing::Spawned;
use maillage_service_kit::ServiceConfig;

pub const MAILLAGE: &str = env!("CARGO_BIN_EXE_maillage");

/// A running platform and its data directory.
pub struct Platform {
    pub dir: tempfile::TempDir,
    pub endpoint: String,
    server: Spawned,
}

impl Platform {
    pub async fn start() -> Platform {
        let dir = tempfile::tempdir().unwrap();
        let config = ServiceConfig::for_dir(dir.path().join("data"));
        maillage::bootstrap::prepare(&config).unwrap();
        let server = Spawned::spawn(move |listener, shutdown| async move {
            maillage::platform::serve(&config, listener, shutdown).await
        })
        .await
        .unwrap();
        Platform {
            dir,
            endpoint: format!("http://{}", server.address()),
            server,
        }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn connection(&self) -> Connection {
        Connection {
            endpoint: self.endpoint.clone(),
            token: None,
            data_dir: self.data_dir(),
            purpose: None,
        }
    }

    pub async fn channel(&self) -> Authed {
        self.connection().connect().await.unwrap()
    }

    /// Plays the demo (seed, scale) and writes its report to `<dir>/<name>`.
    pub async fn demo(&self, seed: u64, scale: f64, name: &str) -> (Outcome, ReportData, PathBuf) {
        let out = self.dir.path().join(name);
        let (outcome, data) = play_and_report(&self.connection(), seed, scale, &out)
            .await
            .unwrap();
        (outcome, data, out)
    }

    /// Runs the real binary against this platform.
    pub async fn maillage(&self, args: &[&str]) -> std::process::Output {
        tokio::process::Command::new(MAILLAGE)
            .args(args)
            .args(["--endpoint", &self.endpoint, "--data-dir"])
            .arg(self.data_dir())
            .env_remove("MAILLAGE_TOKEN")
            .output()
            .await
            .unwrap()
    }

    /// Stops the platform; returns its directory, kept until the caller drops it.
    pub async fn stop(self) -> tempfile::TempDir {
        self.server.stop().await.unwrap();
        self.dir
    }
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

/// Drafts and opens a survey with one required free-text question,
/// `attentes`; returns its id.
pub async fn open_free_text_survey(engagement: &mut EngagementClient<Authed>) -> String {
    let survey = engagement
        .draft_survey(pb::DraftSurveyRequest {
            campaign_action_ids: Vec::new(),
            request_id: uuid::Uuid::now_v7().to_string(),
            title: "Vos attentes".into(),
            questions: vec![pb::SurveyQuestion {
                question_id: "attentes".into(),
                text: "Qu'attendez-vous d'un tiers-lieu ?".into(),
                required: true,
                kind: Some(pb::survey_question::Kind::FreeText(pb::SurveyFreeText {
                    max_length: 500,
                })),
            }],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .id;
    engagement
        .open_survey(pb::OpenSurveyRequest {
            campaign_override: None,
            request_id: uuid::Uuid::now_v7().to_string(),
            survey_id: survey.clone(),
            expected_version: None,
        })
        .await
        .unwrap();
    survey
}

/// Stakeholder `who` answers `text` to the survey of [`open_free_text_survey`].
pub async fn answer_as(
    engagement: &mut EngagementClient<Authed>,
    survey: &str,
    who: &str,
    text: &str,
) -> pb::CommandReply {
    engagement
        .submit_survey_response(pb::SubmitSurveyResponseRequest {
            request_id: uuid::Uuid::now_v7().to_string(),
            survey_id: survey.to_owned(),
            respondent: Some(pb::SurveyRespondent {
                who: Some(pb::survey_respondent::Who::StakeholderId(who.to_owned())),
            }),
            respondent_token: String::new(),
            answers: vec![pb::SurveyAnswer {
                question_id: "attentes".into(),
                value: Some(pb::survey_answer::Value::Text(text.to_owned())),
            }],
        })
        .await
        .unwrap()
        .into_inner()
}
