//! Survey response benchmark: does the 10,001st response cost what the first did?
//!
//! Starts the real engagement server in-process on 127.0.0.1 (sled in a temp
//! dir, tokens file, master key), opens one survey with five questions, and
//! submits responses through gRPC at concurrency 16 (each with its own
//! respondent token, so the set of token hashes grows too). It measures the
//! rate of MEASURED responses at 0, 5,000 and 10,000 existing responses,
//! filling up between levels, and prints the ratio rate@10k / rate@0.
//!
//! `cargo run --release -p maillage-engagement --example survey_bench`
//! (`SURVEY_BENCH_MEASURED=n` changes the responses measured per level).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Result;
use maillage_privacy::MasterKey;
use maillage_proto::v1::engagement_client::EngagementClient;
use maillage_proto::v1::{
    self as pb, survey_answer::Value, survey_question::Kind, survey_respondent,
};
use maillage_service_kit::{Role, ServiceConfig, TokenFile};
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::interceptor::InterceptedService;
use tonic::service::Interceptor;
use tonic::transport::Channel;

const CONCURRENCY: u64 = 16;
const LEVELS: [u64; 3] = [0, 5_000, 10_000];

#[derive(Clone)]
struct Bearer(MetadataValue<Ascii>);

impl Interceptor for Bearer {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        request
            .metadata_mut()
            .insert("authorization", self.0.clone());
        Ok(request)
    }
}

type Client = EngagementClient<InterceptedService<Channel, Bearer>>;

fn option(id: &str) -> pb::SurveyOption {
    pb::SurveyOption {
        option_id: id.into(),
        label: format!("Option {id}"),
    }
}

fn questions() -> Vec<pb::SurveyQuestion> {
    let question = |id: &str, kind| pb::SurveyQuestion {
        question_id: id.into(),
        text: format!("Question {id}"),
        required: true,
        kind: Some(kind),
    };
    vec![
        question(
            "usage",
            Kind::SingleChoice(pb::SurveySingleChoice {
                options: vec![option("cowork"), option("fablab"), option("cafe")],
            }),
        ),
        question(
            "services",
            Kind::MultipleChoice(pb::SurveyMultipleChoice {
                options: vec![option("a"), option("b"), option("c"), option("d")],
                max_selections: 2,
            }),
        ),
        question(
            "interest",
            Kind::Scale(pb::SurveyScale {
                min: 1,
                max: 5,
                ..Default::default()
            }),
        ),
        question(
            "comment",
            Kind::FreeText(pb::SurveyFreeText { max_length: 500 }),
        ),
        question(
            "priorities",
            Kind::Ranking(pb::SurveyRanking {
                options: vec![option("x"), option("y"), option("z")],
            }),
        ),
    ]
}

fn response(survey_id: &str, n: u64) -> pb::SubmitSurveyResponseRequest {
    let choices = ["cowork", "fablab", "cafe"];
    let list = |ids: &[&str]| pb::SurveyOptionList {
        option_ids: ids.iter().map(|s| s.to_string()).collect(),
    };
    let answer = |id: &str, value| pb::SurveyAnswer {
        question_id: id.into(),
        value: Some(value),
    };
    pb::SubmitSurveyResponseRequest {
        request_id: format!("bench-{n}"),
        survey_id: survey_id.into(),
        respondent: Some(pb::SurveyRespondent {
            who: Some(survey_respondent::Who::Anonymous(
                pb::AnonymousParticipant {
                    audience: pb::EngagementAudience::Population as i32,
                    commune_code: "15014".into(),
                },
            )),
        }),
        respondent_token: format!("respondent-{n}"),
        answers: vec![
            answer("usage", Value::Choice(choices[(n % 3) as usize].into())),
            answer("services", Value::Choices(list(&["a", "d"]))),
            answer("interest", Value::Scale((n % 5) as i32 + 1)),
            answer(
                "comment",
                Value::Text("Un lieu ouvert le soir, avec une bonne connexion".into()),
            ),
            answer("priorities", Value::Ranking(list(&["z", "x", "y"]))),
        ],
    }
}

/// Submits responses `from..to` with CONCURRENCY workers; returns responses per second.
async fn submit(clients: &[Client], survey_id: &str, from: u64, to: u64) -> Result<f64> {
    let next = Arc::new(AtomicU64::new(from));
    let started = Instant::now();
    let workers: Vec<_> = (0..CONCURRENCY)
        .map(|worker| {
            let mut client = clients[worker as usize % clients.len()].clone();
            let next = next.clone();
            let survey_id = survey_id.to_string();
            tokio::spawn(async move {
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= to {
                        return Ok::<(), anyhow::Error>(());
                    }
                    client
                        .submit_survey_response(response(&survey_id, n))
                        .await?;
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await??;
    }
    Ok((to - from) as f64 / started.elapsed().as_secs_f64())
}

#[tokio::main]
async fn main() -> Result<()> {
    let measured: u64 = std::env::var("SURVEY_BENCH_MEASURED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    let dir = tempfile::tempdir()?;
    let token = TokenFile::add(dir.path().join("tokens"), "bench", &[Role::Facilitator])?;
    MasterKey::generate_file(dir.path().join("master.key"))?;
    let mut config = ServiceConfig::for_dir(dir.path());
    config.master_key_file = Some(dir.path().join("master.key"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(maillage_engagement::serve(config, listener, async {
        let _ = stopped.await;
    }));

    let bearer = Bearer(format!("Bearer {token}").parse()?);
    let mut clients = Vec::new();
    for _ in 0..4 {
        let channel = Channel::from_shared(format!("http://{address}"))?
            .connect()
            .await?;
        clients.push(EngagementClient::with_interceptor(channel, bearer.clone()));
    }
    let mut client = clients[0].clone();
    let survey_id = client
        .draft_survey(pb::DraftSurveyRequest {
            axis_ids: Vec::new(),
            campaign_action_ids: Vec::new(),
            topics: Default::default(),
            request_id: "bench-draft".into(),
            title: "Benchmark survey".into(),
            description: String::new(),
            campaign_action_id: String::new(),
            themes: vec![pb::EngagementTheme::QuelsTla as i32],
            questions: questions(),
            slug: String::new(),
        })
        .await?
        .into_inner()
        .id;
    client
        .open_survey(pb::OpenSurveyRequest {
            campaign_override: None,
            request_id: "bench-open".into(),
            survey_id: survey_id.clone(),
            expected_version: None,
        })
        .await?;

    println!("survey_bench: one survey, concurrency {CONCURRENCY}, {measured} responses measured per level");
    let mut existing = 0;
    let mut rates = Vec::new();
    for level in LEVELS {
        if existing < level {
            let fill = submit(&clients, &survey_id, existing, level).await?;
            println!("  filled {existing:>6} -> {level:>6} at {fill:>8.0} responses/s");
            existing = level;
        }
        let rate = submit(&clients, &survey_id, existing, existing + measured).await?;
        println!("  at {level:>6} existing responses: {rate:>8.0} responses/s");
        existing += measured;
        rates.push(rate);
    }
    let view = client
        .get_survey(pb::GetSurveyRequest {
            survey_id: survey_id.clone(),
            slug: String::new(),
        })
        .await?
        .into_inner();
    assert_eq!(
        view.response_count, existing,
        "every response was counted once"
    );
    println!(
        "  ratio rate@10k / rate@0 = {:.2} (target >= 0.80); {} responses in the survey",
        rates[2] / rates[0],
        view.response_count
    );
    drop(clients);
    drop(client);
    let _ = stop.send(());
    server.await??;
    Ok(())
}
