//! The demo against a real in-process platform, and its HTML report checked against the
//! projections' own answers; `maillage report` errors and replay; the personal-data
//! commands; determinism of two runs with the same seed.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;

use common::{read, text, Platform};
use maillage::report::labels::{percent, thousands};
use maillage_proto::v1 as pb;
use maillage_proto::v1::engagement_client::EngagementClient;
use maillage_proto::v1::projections_client::ProjectionsClient;
use maillage_proto::v1::stakeholders_client::StakeholdersClient;
use prost::Message;

fn epci() -> pb::TerritoryRef {
    pb::TerritoryRef {
        level: pb::TerritoryLevel::Epci as i32,
        code: "243700499".into(),
    }
}

async fn territory(platform: &Platform) -> pb::TerritoryEngagementReport {
    ProjectionsClient::new(platform.channel().await)
        .get_territory_engagement(pb::TerritoryEngagementRequest {
            territory: Some(epci()),
            as_of: None,
            page: Some(pb::PageRequest {
                page_size: 1000,
                page_token: String::new(),
            }),
        })
        .await
        .unwrap()
        .into_inner()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_report_shows_what_the_projections_answer() {
    let platform = Platform::start().await;
    let (outcome, _, path) = platform.demo(7, 0.3, "report.html").await;
    assert_eq!(outcome.territory, "epci:243700499");
    let html = read(&path);
    let report = territory(&platform).await;

    assert_eq!(report.communes_total, 16);
    assert_eq!(report.population, 15_802);
    assert!(
        report.coverage > 0.3 && report.coverage < 1.0,
        "{}",
        report.coverage
    );
    assert_eq!(
        report.white_zone_communes.len(),
        4,
        "four communes are never reached"
    );
    assert!(report.contacts > 30 && report.actions_held >= 5 && report.consortium_members > 10);
    assert!(report.survey_responses >= 90, "{}", report.survey_responses);
    // One vocabulary of themes: telework was worked on across contacts,
    // actions and commitments, and the report's themes table says so.
    let telework = report
        .by_theme
        .iter()
        .find(|theme| theme.theme == "THEME_TELEWORK")
        .expect("telework in the report's themes");
    assert!(telework.contacts > 0 && telework.actions_held > 0 && telework.commitments > 0);
    assert!(html.contains("Ce qui a été fait sur chaque thème"));
    // The programme's three axes, in their order, with what was done on each.
    let axes = html
        .split("id=\"avancement-par-axe\"")
        .nth(1)
        .and_then(|rest| rest.split("</section>").next())
        .expect("the progress per axis");
    let inform = axes.find("Sensibiliser et informer").unwrap();
    let consult = axes.find("Concerter les acteurs du territoire").unwrap();
    let structure = axes.find("Structurer l&#39;offre de tiers-lieux").unwrap();
    assert!(inform < consult && consult < structure, "{axes}");
    assert!(
        axes.contains(
            "<tr><td>Sensibiliser et informer</td><td class=\"n\">5</td><td class=\"n\">5</td>"
        ),
        "five awareness actions held, the campaign among them: {axes}"
    );
    // The contacts and commitments of each axis are those the projections
    // count (`by_axis`), and the demo tagged some of each.
    let programme = EngagementClient::new(platform.channel().await)
        .get_programme(pb::GetProgrammeRequest {})
        .await
        .unwrap()
        .into_inner();
    let mut tagged_contacts = 0;
    let mut tagged_commitments = 0;
    for axis in &programme.axes {
        let counted = report
            .by_axis
            .iter()
            .find(|counted| counted.axis_id == axis.axis_id)
            .cloned()
            .unwrap_or_default();
        tagged_contacts += counted.contacts;
        tagged_commitments += counted.commitments;
        let name = axis.name.replace('\'', "&#39;");
        let row = axes
            .split(&format!("<tr><td>{name}</td>"))
            .nth(1)
            .and_then(|row| row.split("</tr>").next())
            .unwrap_or_else(|| panic!("a row for {name}: {axes}"));
        let cells: Vec<String> = row
            .split("<td class=\"n\">")
            .skip(1)
            .map(|cell| cell.split('<').next().unwrap_or("").to_owned())
            .collect();
        assert_eq!(
            cells[2..5],
            [
                counted.contacts.to_string(),
                (counted.commitments - counted.commitments_done).to_string(),
                counted.commitments_done.to_string(),
            ],
            "{name}: {row}"
        );
    }
    assert!(
        tagged_contacts > 0 && tagged_commitments > 0,
        "{:?}",
        report.by_axis
    );
    // The objectives of the axes, measured against the projections' own
    // figures: every commune of the EPCI is the target of the first, and
    // the roundtables held are those the action statistics count.
    let objectives = html
        .split("id=\"objectifs\"")
        .nth(1)
        .and_then(|rest| rest.split("</section>").next())
        .expect("the objectives and deliverables");
    let statistics = ProjectionsClient::new(platform.channel().await)
        .get_action_statistics(pb::ActionStatisticsRequest {
            territory: Some(epci()),
            as_of: None,
        })
        .await
        .unwrap()
        .into_inner();
    let roundtables = statistics
        .by_kind
        .iter()
        .find(|kind| kind.group == "ACTION_KIND_ROUNDTABLE")
        .map_or(0, |kind| kind.held);
    assert!(roundtables > 0);
    assert!(
        objectives.contains(&format!(
            "<td>Trois tables rondes entre acteurs du territoire</td><td>actions tenues (Table ronde)</td><td class=\"n\">{roundtables}</td><td class=\"n\">3</td><td>31/12/2026</td>"
        )),
        "{objectives}"
    );
    let every_commune = objectives
        .split("<td>Toutes les communes touchées par une action de sensibilisation</td>")
        .nth(1)
        .and_then(|row| row.split("</tr>").next())
        .expect("the objective on every commune");
    let reached: usize = every_commune
        .split("<td class=\"n\">")
        .nth(1)
        .and_then(|cell| cell.split('<').next())
        .and_then(|value| value.parse().ok())
        .expect("its value");
    assert!(
        reached >= 1 && reached <= 16 - report.white_zone_communes.len(),
        "a commune in a white zone is reached by nothing: {every_commune}"
    );
    assert!(
        every_commune.contains(&format!(
            "<td class=\"n\">{}</td><td>30/06/2027</td>",
            report.communes_total
        )),
        "{every_commune}"
    );
    assert!(
        objectives.contains("<td>Plan de sensibilisation</td><td>15/05/2026</td><td>le 12/05/2026 (plan-de-sensibilisation.pdf)</td>"),
        "{objectives}"
    );
    // The responses to the consultation axis's survey from the EPCI's
    // communes, as the survey's results count them.
    let responses = ProjectionsClient::new(platform.channel().await)
        .get_survey_results(pb::SurveyResultsRequest {
            survey_id: outcome.survey_id.clone(),
            as_of: None,
        })
        .await
        .unwrap()
        .into_inner();
    let from_territory: u64 = responses
        .responses_by_commune
        .iter()
        .filter(|c| {
            report
                .communes
                .iter()
                .any(|commune| commune.code == c.label)
        })
        .map(|c| c.count)
        .sum();
    assert!(from_territory > 0);
    assert!(
        objectives.contains(&format!(
            "<td>Cent réponses à l&#39;enquête</td><td>réponses aux enquêtes</td><td class=\"n\">{from_territory}</td><td class=\"n\">100</td>"
        )),
        "{objectives}"
    );
    // The concertation with the designated officer, as engagement lists it,
    // with its decisions; the foresight workshop it concerned, held, with
    // the outputs engagement holds.
    let mut engagement = EngagementClient::new(platform.channel().await);
    let concertations = engagement
        .list_concertations(pb::ListConcertationsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .concertations;
    assert_eq!(concertations.len(), 1);
    let concertation = &concertations[0];
    assert_eq!(concertation.decisions.len(), 2);
    let shown = html
        .split("id=\"concertations\"")
        .nth(1)
        .and_then(|rest| rest.split("</section>").next())
        .expect("the concertations");
    assert!(
        shown.contains(&concertation.subject.replace('\'', "&#39;")),
        "{shown}"
    );
    for decision in &concertation.decisions {
        assert!(
            shown.contains(&decision.text.replace('\'', "&#39;")),
            "{}: {shown}",
            decision.text
        );
        assert!(
            shown.contains(&decision.owner.replace('\'', "&#39;")),
            "{shown}"
        );
    }
    assert!(
        shown.contains(&format!(
            "Directrice générale des services ({})",
            concertation.officers[0]
        )),
        "{shown}"
    );
    assert!(
        shown.contains(&format!(
            "<td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            concertation.participant_ids.len(),
            concertation.action_ids.len()
        )),
        "{shown}"
    );
    let workshop = engagement
        .get_foresight_outputs(pb::GetForesightOutputsRequest {
            action_id: concertation.action_ids[1].clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!workshop.scenarios.is_empty());
    let foresight = html
        .split("id=\"prospective\"")
        .nth(1)
        .and_then(|rest| rest.split("</section>").next())
        .expect("the foresight section");
    for scenario in &workshop.scenarios {
        assert!(
            foresight.contains(&scenario.title.replace('\'', "&#39;")),
            "{foresight}"
        );
    }
    // The officer is linked to the DGS of the register.
    let programme = engagement
        .get_programme(pb::GetProgrammeRequest {})
        .await
        .unwrap()
        .into_inner();
    assert!(!programme.officers[0].stakeholder_id.is_empty());
    // The interviews that complete the survey, coded, next to its results;
    // the diagnostics' codes across the two tiers-lieux.
    let section = |id: &str| {
        html.split(&format!("id=\"{id}\""))
            .nth(1)
            .and_then(|rest| rest.split("</section>").next())
            .unwrap_or_else(|| panic!("the section {id}"))
            .to_owned()
    };
    let results = ProjectionsClient::new(platform.channel().await)
        .get_survey_results(pb::SurveyResultsRequest {
            survey_id: outcome.survey_id.clone(),
            as_of: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(results.interviews > 0 && !results.interview_codes.is_empty());
    let coded = section("motivations-codees");
    assert!(
        coded.contains(&format!(
            "<strong>{}</strong> entretiens complètent",
            results.interviews
        )),
        "{coded}"
    );
    for code in &results.interview_codes {
        assert!(
            coded.contains(&code.label.replace('\'', "&#39;")),
            "{}: {coded}",
            code.label
        );
    }
    assert!(!coded.contains("Rompre l&#39;isolement du travail à domicile</td><td>—"));
    let diagnostics = section("diagnostics-tiers-lieux");
    assert!(
        diagnostics.contains("<strong>2</strong> tiers-lieux diagnostiqués"),
        "{diagnostics}"
    );
    let shared = diagnostics
        .split("Ce qu'ils partagent")
        .nth(1)
        .and_then(|rest| rest.split("Ce qu'ils refusent").next())
        .unwrap();
    assert!(
        shared.contains("Animer le lieu (salarié ou bénévoles)"),
        "{shared}"
    );
    assert!(
        shared.contains("Partager des équipements coûteux"),
        "{shared}"
    );
    assert!(
        diagnostics.contains("Espace de coworking : 1 tiers-lieux"),
        "{diagnostics}"
    );
    // The lessons learned, per theme and axis; the withdrawn one left out.
    let lessons = section("retours-experience");
    assert!(
        lessons.contains("<strong>2</strong> réussites et <strong>1</strong> échecs"),
        "{lessons}"
    );
    assert!(
        lessons.contains("Un animateur fait vivre le lieu"),
        "{lessons}"
    );
    assert!(
        lessons.contains("<td>Structurer l&#39;offre de tiers-lieux</td>"),
        "{lessons}"
    );
    assert!(
        !lessons.contains("La restauration n&#39;intéresse pas"),
        "{lessons}"
    );
    let failures = ProjectionsClient::new(platform.channel().await)
        .list_lessons(pb::LessonListRequest {
            outcome: pb::LessonOutcome::Failure as i32,
            include_withdrawn: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(failures.total, 2);
    assert_eq!(failures.lessons.iter().filter(|l| l.withdrawn).count(), 1);
    // The audit reads who approved the thematic workshop, and that the
    // survey opened once its campaign was held.
    let engagement = pb::event_log_client::EventLogClient::new(platform.channel().await)
        .read_all(pb::ReadAllRequest {
            from_position: 1,
            limit: 5_000,
            context: "engagement".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .events;
    let payload = |event_type: &str| {
        engagement
            .iter()
            .find(|event| event.event_type == event_type)
            .unwrap_or_else(|| panic!("{event_type} in the engagement log"))
            .payload
            .clone()
    };
    let approved =
        pb::ActionApproved::decode(payload("maillage.v1.ActionApproved").as_slice()).unwrap();
    assert_eq!(approved.approved_by, "dgs-castelrenaudais");
    let sent_back =
        pb::ActionSentBack::decode(payload("maillage.v1.ActionSentBack").as_slice()).unwrap();
    assert_eq!(sent_back.action_id, approved.action_id);
    let opened = pb::SurveyOpened::decode(payload("maillage.v1.SurveyOpened").as_slice()).unwrap();
    assert_eq!(opened.campaign_held_action_ids.len(), 1);
    assert!(opened.campaign_override_reason.is_empty());
    // Its campaign, an online newsletter for the EPCI, reached all 16 communes.
    assert!(
        html.contains("Campagne d&#39;information : atteintes, 16 communes"),
        "the campaign's reach in the survey's section"
    );
    // The re-engagement counts, never a name.
    assert!(html.contains("À recontacter depuis les municipales"));
    assert!(
        html.contains("en mandat</strong>"),
        "élus en mandat counted"
    );
    assert!(html.contains("<td>Télétravail</td>"));

    assert!(html.contains("CC du Castelrenaudais"));
    assert!(
        html.contains(&percent(report.coverage)),
        "coverage {}",
        percent(report.coverage)
    );
    assert!(html.contains(&format!(
        "{} communes sur {} avec un élu contacté",
        report.communes_with_elu_contacted, report.communes_total
    )));
    assert!(html.contains(&format!(
        "<div class=\"value\">{}</div><div class=\"label\">Contacts enregistrés",
        thousands(report.contacts)
    )));
    assert!(html.contains(&format!(
        "<strong>{}</strong> réponses",
        report.survey_responses
    )));
    for commune in &report.communes {
        assert!(
            html.contains(&format!("data-code=\"{}\"", commune.code)),
            "{}",
            commune.name
        );
        assert!(html.contains(&format!(
            "<td class=\"n\" data-v=\"{}\">",
            commune.survey_responses
        )));
    }
    let white = html
        .split("id=\"liste-zones-blanches\"")
        .nth(1)
        .expect("white zones listed");
    for code in &report.white_zone_communes {
        let name = &report
            .communes
            .iter()
            .find(|c| &c.code == code)
            .unwrap()
            .name;
        assert!(
            white.contains(name.as_str()),
            "{name} listed as a white zone"
        );
    }
    assert_eq!(html.matches("class=\"niveau-0\"").count(), 4);
    assert!(html.contains("Consortium des tiers-lieux du Castelrenaudais"));
    assert!(html.contains("Assemblée générale du 16/10/2026"));
    assert!(html.contains("Table ronde") || html.contains("Convergence entreprises"));
    assert!(html.contains("<svg"));

    // The CLI renders the same page from the same data.
    let out = platform.dir.path().join("cli.html");
    let cli = platform
        .maillage(&[
            "report",
            "--territory",
            "epci:243700499",
            "--out",
            out.to_str().unwrap(),
        ])
        .await;
    assert!(cli.status.success(), "{}", text(&cli.stderr));
    assert_eq!(read(&out), html);

    // The follow-ups still to do in the territory: as many as the report counts,
    // each with what it is (the admin reads the descriptions).
    let listed = platform
        .maillage(&["follow-ups", "--territory", "epci:243700499"])
        .await;
    assert!(listed.status.success(), "{}", text(&listed.stderr));
    let listed = text(&listed.stdout);
    assert!(report.follow_ups_open > 0);
    assert!(
        listed.starts_with(&format!(
            "{} relances dont {} en retard",
            report.follow_ups_open, report.follow_ups_overdue
        )),
        "{listed}"
    );
    assert_eq!(
        listed.lines().filter(|line| line.starts_with("- ")).count() as u64,
        report.follow_ups_open
    );
    assert!(
        listed.contains("Envoyer la synthèse du diagnostic territorial"),
        "{listed}"
    );
    assert!(html.contains(&format!(
        "Relances à faire, dont {} en retard",
        report.follow_ups_overdue
    )));
    platform.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_names_close_territories_and_replays_the_past() {
    let platform = Platform::start().await;
    platform.demo(3, 0.1, "report.html").await;

    let unknown = platform
        .maillage(&["report", "--territory", "Castelrenodais"])
        .await;
    assert!(!unknown.status.success());
    let message = text(&unknown.stderr);
    assert!(message.contains("territoire inconnu"), "{message}");
    assert!(
        message.contains("CC du Castelrenaudais (epci:243700499)"),
        "{message}"
    );

    let past = platform
        .maillage(&[
            "report",
            "--territory",
            "epci:243700499",
            "--as-of",
            "2020-01-01T00:00:00Z",
            "--format",
            "json",
        ])
        .await;
    assert!(past.status.success(), "{}", text(&past.stderr));
    let json: serde_json::Value = serde_json::from_slice(&past.stdout).unwrap();
    assert_eq!(json["contacts"], 0);
    assert_eq!(json["stakeholders_total"], 0);
    assert_eq!(json["survey_responses"], 0);
    assert_eq!(json["white_zone_communes"].as_array().unwrap().len(), 16);

    let past_html = platform
        .maillage(&[
            "report",
            "--territory",
            "243700499",
            "--as-of",
            "2020-01-01T00:00:00Z",
        ])
        .await;
    let page = text(&past_html.stdout);
    assert!(
        page.contains("rejeu des événements au 2020-01-01T00:00:00Z"),
        "{page}"
    );
    assert!(page.contains("Aucun consortium sur ce territoire"));
    assert_eq!(page.matches("class=\"niveau-0\"").count(), 16);

    let live = platform
        .maillage(&["report", "--territory", "epci:243700499", "--format", "csv"])
        .await;
    let csv = text(&live.stdout);
    // Its provenance first (a request line, a line per log), then the table.
    assert!(csv.starts_with("# maillage-request,"), "{csv}");
    let table: Vec<&str> = csv.lines().filter(|line| !line.starts_with('#')).collect();
    assert!(table[0].starts_with("code,name,population"), "{csv}");
    assert_eq!(table.len(), 17);
    assert_eq!(csv.lines().count(), 21);

    let programme = platform.maillage(&["programme", "show"]).await;
    assert!(programme.status.success(), "{}", text(&programme.stderr));
    let programme = text(&programme.stdout);
    assert!(
        programme.starts_with(" 1. Sensibiliser et informer — "),
        "{programme}"
    );
    assert!(programme.contains(" 3. Structurer l'offre de tiers-lieux — "));
    assert!(
        programme.contains("responsable : dgs-castelrenaudais"),
        "{programme}"
    );
    // The officer's link to the register, and the concertation with its
    // decisions, as engagement holds them.
    let officer = EngagementClient::new(platform.channel().await)
        .get_programme(pb::GetProgrammeRequest {})
        .await
        .unwrap()
        .into_inner()
        .officers
        .remove(0);
    assert!(
        programme.contains(&format!("(personne {})", officer.stakeholder_id)),
        "{programme}"
    );
    let concertations = EngagementClient::new(platform.channel().await)
        .list_concertations(pb::ListConcertationsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .concertations;
    let listed = platform
        .maillage(&["programme", "concertation", "lister"])
        .await;
    assert!(listed.status.success(), "{}", text(&listed.stderr));
    let listed = text(&listed.stdout);
    for concertation in &concertations {
        assert!(listed.contains(&concertation.concertation_id), "{listed}");
        for decision in &concertation.decisions {
            assert!(
                listed.contains(&format!(
                    "  décision : {} — porteur : {}",
                    decision.text, decision.owner
                )),
                "{listed}"
            );
        }
    }
    let twice = platform
        .maillage(&["programme", "define-axis", "sensibiliser et informer"])
        .await;
    assert!(!twice.status.success());
    assert!(
        text(&twice.stderr).contains("Un autre axe s'appelle déjà"),
        "{}",
        text(&twice.stderr)
    );
    let added = platform
        .maillage(&[
            "programme",
            "define-axis",
            "Mobilités",
            "--description",
            "Se rendre au tiers-lieu",
        ])
        .await;
    assert!(added.status.success(), "{}", text(&added.stderr));
    let programme = text(&platform.maillage(&["programme", "show"]).await.stdout);
    assert!(programme.contains(" 4. Mobilités — "), "{programme}");
    assert!(
        programme.contains("  - Trois tables rondes entre acteurs du territoire (Concerter les acteurs du territoire) : cible 3, échéance 31/12/2026 — "),
        "{programme}"
    );
    // An objective on the new axis, from the terminal: an unknown kind is
    // explained before anything is sent; a good one is listed.
    let mobility = programme
        .lines()
        .find_map(|line| line.strip_prefix(" 4. Mobilités — "))
        .expect("the new axis's id")
        .to_owned();
    let objective = |kind: &str| {
        vec![
            "programme".to_owned(),
            "set-objective".to_owned(),
            "--axis".to_owned(),
            mobility.clone(),
            "--label".to_owned(),
            "Deux visites d'échange".to_owned(),
            "--measure".to_owned(),
            "actions-held".to_owned(),
            "--kind".to_owned(),
            kind.to_owned(),
            "--target".to_owned(),
            "2".to_owned(),
            "--due".to_owned(),
            "2027-03-31".to_owned(),
        ]
    };
    let args = objective("visite");
    let unknown = platform
        .maillage(&args.iter().map(String::as_str).collect::<Vec<_>>())
        .await;
    assert!(!unknown.status.success());
    assert!(
        text(&unknown.stderr).contains("--kind visite"),
        "{}",
        text(&unknown.stderr)
    );
    let args = objective("exchange-visit");
    let set = platform
        .maillage(&args.iter().map(String::as_str).collect::<Vec<_>>())
        .await;
    assert!(set.status.success(), "{}", text(&set.stderr));
    let programme = text(&platform.maillage(&["programme", "show"]).await.stdout);
    assert!(
        programme
            .contains("  - Deux visites d'échange (Mobilités) : cible 2, échéance 31/03/2027 — "),
        "{programme}"
    );
    assert!(
        programme.contains("    Se rendre au tiers-lieu"),
        "{programme}"
    );

    let summary = platform
        .maillage(&[
            "report",
            "--territory",
            "epci:243700499",
            "--format",
            "text",
        ])
        .await;
    let summary = text(&summary.stdout);
    assert!(
        summary.starts_with("Territoire : CC du Castelrenaudais (243700499)"),
        "{summary}"
    );
    assert!(summary.contains("Couverture : "), "{summary}");
    assert!(!summary.contains("<html"), "{summary}");
    let whites_now = white_zones_now(&platform).await;
    let changes = platform
        .maillage(&[
            "report",
            "--territory",
            "epci:243700499",
            "--from",
            "2020-01-01",
            "--diff",
            "--format",
            "text",
        ])
        .await;
    assert!(changes.status.success(), "{}", text(&changes.stderr));
    let changes = text(&changes.stdout);
    assert!(
        changes.contains("Évolution du 2020-01-01T00:00:00Z au maintenant"),
        "{changes}"
    );
    assert!(
        changes.contains(&format!("Sorties de la zone blanche ({})", 16 - whites_now)),
        "{changes}"
    );
    let page = platform
        .maillage(&[
            "report",
            "--territory",
            "epci:243700499",
            "--from",
            "2020-01-01",
            "--diff",
        ])
        .await;
    let page = text(&page.stdout);
    assert!(page.contains("id=\"evolution\""), "{page}");
    assert!(page.contains("Ce qui a changé du 2020-01-01T00:00:00Z au maintenant"));
    let refused = platform
        .maillage(&["report", "--territory", "epci:243700499", "--diff"])
        .await;
    assert!(!refused.status.success());
    let json_file = platform.dir.path().join("rapport.json");
    let by_extension = platform
        .maillage(&[
            "report",
            "--territory",
            "epci:243700499",
            "--out",
            json_file.to_str().unwrap(),
        ])
        .await;
    assert!(by_extension.status.success(), "{by_extension:?}");
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&json_file).unwrap()).unwrap();
    assert_eq!(json["communes_total"], 16);

    let bad_date = platform
        .maillage(&["report", "--territory", "epci:243700499", "--as-of", "hier"])
        .await;
    assert!(text(&bad_date.stderr).contains("n'est pas une date RFC 3339"));
    platform.stop().await;
}

/// The number of white-zone communes of the demo EPCI now, from the JSON export.
async fn white_zones_now(platform: &Platform) -> usize {
    let live = platform
        .maillage(&[
            "report",
            "--territory",
            "epci:243700499",
            "--format",
            "json",
        ])
        .await;
    let json: serde_json::Value = serde_json::from_slice(&live.stdout).unwrap();
    json["white_zone_communes"].as_array().unwrap().len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_export_subject_export_and_erasure() {
    let platform = Platform::start().await;
    platform.demo(5, 0.1, "report.html").await;

    let audit = platform
        .maillage(&["export", "audit", "--territory", "epci:243700499"])
        .await;
    assert!(audit.status.success(), "{}", text(&audit.stderr));
    let csv = text(&audit.stdout);
    assert_eq!(csv.matches("# maillage-source,").count(), 3, "{csv}");
    let mut table = csv.lines().filter(|line| !line.starts_with('#'));
    assert!(
        table
            .next()
            .unwrap()
            .starts_with("interaction_id,occurred_at"),
        "{csv}"
    );
    let elu = table
        .find_map(|line| {
            line.split(',')
                .find(|field| field.contains(":PERSON:PERSON_KIND_ELECTED_OFFICIAL"))
                .and_then(|field| field.split(':').next())
                .map(str::to_owned)
        })
        .expect("a contact with an élu");
    let june = platform
        .maillage(&[
            "export",
            "audit",
            "--territory",
            "epci:243700499",
            "--from",
            "2026-06-01",
            "--to",
            "2026-07-01",
        ])
        .await;
    let june = text(&june.stdout);
    assert!(june.lines().count() < csv.lines().count());
    assert!(june
        .lines()
        .filter(|line| !line.starts_with('#'))
        .skip(1)
        .all(|line| line.split(',').nth(1).unwrap().starts_with("2026-06")));

    let before = platform.maillage(&["subject-export", &elu]).await;
    assert!(before.status.success(), "{}", text(&before.stderr));
    let before: serde_json::Value = serde_json::from_slice(&before.stdout).unwrap();
    assert_eq!(before["erased"], false);
    assert!(!before["stakeholder"]["profile"]["family_name"]
        .as_str()
        .unwrap()
        .is_empty());
    assert!(!before["interactions"].as_array().unwrap().is_empty());
    assert!(before["stakeholder"]["mandates"][0]["office"]
        .as_str()
        .unwrap()
        .starts_with("MANDATE_OFFICE_"));

    let erased = platform
        .maillage(&["erase", &elu, "--reason", "RGPD art. 17, demande 2026-014"])
        .await;
    assert!(erased.status.success(), "{}", text(&erased.stderr));
    assert!(text(&erased.stdout).contains("effacée"));
    let after = platform.maillage(&["subject-export", &elu]).await;
    let after: serde_json::Value = serde_json::from_slice(&after.stdout).unwrap();
    assert_eq!(after["erased"], true);

    let missing = platform
        .maillage(&["erase", "not-a-uuid", "--reason", "x"])
        .await;
    assert!(!missing.status.success());
    platform.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_seed_gives_the_same_reports() {
    let first = Platform::start().await;
    let second = Platform::start().await;
    let (a, _, html_a) = first.demo(11, 0.2, "a.html").await;
    let (b, _, html_b) = second.demo(11, 0.2, "b.html").await;
    assert_eq!(a.commands, b.commands);
    assert_eq!(a.positions, b.positions, "the same events in the same logs");

    let export = |platform: &Platform| {
        let endpoint = platform.endpoint.clone();
        let data = platform.data_dir();
        async move {
            let connection = maillage::cli::client::Connection {
                endpoint,
                token: None,
                data_dir: data,
                purpose: None,
            };
            ProjectionsClient::new(connection.connect().await.unwrap())
                .export_report(pb::ExportReportRequest {
                    with_provenance: false,
                    format: pb::ExportFormat::Json as i32,
                    report: Some(pb::export_report_request::Report::TerritoryEngagement(
                        pb::TerritoryEngagementRequest {
                            territory: Some(epci()),
                            as_of: None,
                            page: None,
                        },
                    )),
                })
                .await
                .unwrap()
                .into_inner()
                .content
        }
    };
    let json_a = export(&first).await;
    let json_b = export(&second).await;
    assert_eq!(text(&json_a), text(&json_b));
    // Ids differ between runs (UUID v7), but the report shows none of them;
    // the hashes of the logs it names differ (each record hashes the instant it
    // was recorded at), and nothing else.
    let without_hashes = |page: String| -> String {
        page.lines()
            .filter(|line| {
                !line.starts_with("<meta name=\"maillage:source\"")
                    && !line.starts_with("<p id=\"provenance\">")
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let (page_a, page_b) = (read(&html_a), read(&html_b));
    assert_eq!(page_a.matches("maillage:source").count(), 3);
    assert_eq!(without_hashes(page_a), without_hashes(page_b));

    let third = Platform::start().await;
    third.demo(12, 0.2, "c.html").await;
    assert_ne!(
        text(&export(&third).await),
        text(&json_a),
        "another seed tells another story"
    );
    third.stop().await;
    first.stop().await;
    second.stop().await;
}

#[test]
fn maillage_demo_runs_in_process_and_refuses_a_used_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let run = |extra: &[&str]| {
        std::process::Command::new(common::MAILLAGE)
            .args([
                "demo",
                "--seed",
                "4",
                "--scale",
                "0.1",
                "--data-dir",
                "data",
                "--out",
                "demo.html",
            ])
            .args(extra)
            .current_dir(dir.path())
            .env_remove("MAILLAGE_TOKEN")
            .env_remove("MAILLAGE_DATA_DIR")
            .output()
            .unwrap()
    };
    let first = run(&[]);
    assert!(first.status.success(), "{}", text(&first.stderr));
    let summary = text(&first.stdout);
    for expected in [
        "Territoire : CC du Castelrenaudais",
        "Couverture : ",
        "Zones blanches (4)",
        "Consortium : Consortium des tiers-lieux du Castelrenaudais",
        // It ends by saying where to open the web console and how to sign in.
        "Console web : lancez `maillage up --data-dir data`, puis ouvrez \
         http://127.0.0.1:8080/territoire?niveau=epci&code=243700499",
        "connectez-vous avec le jeton administrateur enregistré dans data/admin.token",
    ] {
        assert!(summary.contains(expected), "{expected} in {summary}");
    }
    assert!(read(&dir.path().join("demo.html")).contains("<!DOCTYPE html>"));

    let again = run(&[]);
    assert!(!again.status.success());
    assert!(
        text(&again.stderr).contains("n'est pas vide"),
        "{}",
        text(&again.stderr)
    );
    // With --force the same seed is replayed: every request is recognised, nothing changes.
    let forced = run(&["--force"]);
    assert!(forced.status.success(), "{}", text(&forced.stderr));
    assert_eq!(text(&forced.stdout), summary);
}

/// Registers an inhabitant of Château-Renault: one more event in the stakeholders log.
async fn register_someone(platform: &Platform) {
    StakeholdersClient::new(platform.channel().await)
        .register_person(pb::RegisterPersonRequest {
            request_id: uuid::Uuid::now_v7().to_string(),
            profile: Some(pb::PersonProfile {
                given_name: "Inès".into(),
                family_name: "Moreau".into(),
                kinds: vec![pb::PersonKind::Inhabitant as i32],
                commune_code: "37063".into(),
                ..Default::default()
            }),
            mandates: vec![],
        })
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_is_verified_against_the_logs_it_names() {
    let platform = Platform::start().await;
    platform.demo(4, 0.1, "report.html").await;
    // A past instant: every event of the demo was recorded before it.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let now = jiff::Timestamp::now().round(jiff::Unit::Second).unwrap();
    let as_of = now
        .checked_sub(jiff::SignedDuration::from_secs(1))
        .unwrap()
        .to_string();
    let file = platform.dir.path().join("rapport.html");
    let file_arg = file.to_str().unwrap();
    let made = platform
        .maillage(&[
            "report",
            "--territory",
            "epci:243700499",
            "--as-of",
            &as_of,
            "--out",
            file_arg,
        ])
        .await;
    assert!(made.status.success(), "{}", text(&made.stderr));
    let page = std::fs::read_to_string(&file).unwrap();
    assert!(page.contains("<meta name=\"maillage:territory\" content=\"epci:243700499\">"));
    assert_eq!(page.matches("<meta name=\"maillage:source\"").count(), 3);
    assert!(page.contains("Calculé à partir des journaux"), "{page}");

    let verified = platform.maillage(&["verify-report", file_arg]).await;
    let out = text(&verified.stdout);
    assert!(verified.status.success(), "{out}{}", text(&verified.stderr));
    assert!(out.contains("document identique"), "{out}");

    // The CSV and JSON exports state their provenance and verify the same way.
    let mut exports = Vec::new();
    for name in ["communes.csv", "communes.json"] {
        let export = platform.dir.path().join(name);
        let export_arg = export.to_str().unwrap().to_owned();
        let made = platform
            .maillage(&[
                "report",
                "--territory",
                "epci:243700499",
                "--as-of",
                &as_of,
                "--out",
                &export_arg,
            ])
            .await;
        assert!(made.status.success(), "{}", text(&made.stderr));
        let verified = platform.maillage(&["verify-report", &export_arg]).await;
        assert!(
            text(&verified.stdout).contains("document identique"),
            "{name}: {}{}",
            text(&verified.stdout),
            text(&verified.stderr)
        );
        exports.push(export_arg);
    }
    let csv = std::fs::read_to_string(&exports[0]).unwrap();
    assert!(csv.starts_with("# maillage-request,"), "{csv}");
    assert_eq!(csv.matches("# maillage-source,").count(), 3);

    // New events after the instant change nothing for a report replayed as of it.
    register_someone(&platform).await;
    let again = platform.maillage(&["verify-report", file_arg]).await;
    assert!(again.status.success(), "{}", text(&again.stderr));
    let again = platform.maillage(&["verify-report", &exports[0]]).await;
    assert!(again.status.success(), "{}", text(&again.stderr));

    // A commune's figure changed by hand in the CSV is caught.
    let line = csv.lines().find(|line| line.starts_with("37")).unwrap();
    let forged_line = format!("{line}9");
    std::fs::write(&exports[0], csv.replacen(line, &forged_line, 1)).unwrap();
    let refused = platform.maillage(&["verify-report", &exports[0]]).await;
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("document différent"),
        "{}",
        text(&refused.stderr)
    );

    // A figure changed by hand is caught.
    let forged = page.replacen("<div class=\"value\">", "<div class=\"value\">9", 1);
    std::fs::write(&file, &forged).unwrap();
    let refused = platform.maillage(&["verify-report", file_arg]).await;
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("document différent"),
        "{}",
        text(&refused.stderr)
    );

    // So is a hash that is not the log's.
    let source = page
        .split("<meta name=\"maillage:source\" content=\"stakeholders ")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    let (position, hash) = source.split_once(' ').unwrap();
    let wrong = format!("{position} {}", "0".repeat(hash.len()));
    std::fs::write(&file, page.replace(&source, &wrong)).unwrap();
    let refused = platform.maillage(&["verify-report", file_arg]).await;
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("empreinte"),
        "{}",
        text(&refused.stderr)
    );

    // A live report recomputes while the logs have not moved, not after.
    let live = platform.dir.path().join("direct.html");
    let live_arg = live.to_str().unwrap();
    platform
        .maillage(&["report", "--territory", "epci:243700499", "--out", live_arg])
        .await;
    let verified = platform.maillage(&["verify-report", live_arg]).await;
    assert!(verified.status.success(), "{}", text(&verified.stderr));
    register_someone(&platform).await;
    let moved = platform.maillage(&["verify-report", live_arg]).await;
    assert!(!moved.status.success());
    assert!(
        text(&moved.stderr).contains("ont avancé"),
        "{}",
        text(&moved.stderr)
    );
    platform.stop().await;
}
