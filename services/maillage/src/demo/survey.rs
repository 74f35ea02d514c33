//! Act 4 of the demo: what inhabitants and actors expect — the population survey
//! (after the information campaign) with a few hundred anonymous responses spread over
//! the active communes and audiences, semi-structured interviews that complete it, and
//! the diagnostics of the two existing tiers-lieux — interviews and diagnostics coded
//! with the team's codebook ([`super::codebook`]).

use maillage_proto::v1 as pb;
use pb::survey_answer::Value;
use pb::{EngagementAudience as Audience, Theme};
use rand::seq::SliceRandom;
use rand::Rng;

use super::calendar::campaign_day;
use super::cast::Cast;
use super::codebook::Codes;
use super::plan::Plan;
use super::player::Player;
use super::programme::Axes;

const ENGAGEMENT: &str = maillage_engagement::CONTEXT;

/// Survey responses at scale 1.
const RESPONSES: usize = 320;

fn options(items: &[(&str, &str)]) -> Vec<pb::SurveyOption> {
    items
        .iter()
        .map(|(id, label)| pb::SurveyOption {
            option_id: (*id).to_owned(),
            label: (*label).to_owned(),
        })
        .collect()
}

const USES: &[(&str, &str)] = &[
    ("coworking", "Espace de coworking"),
    ("fablab", "Fablab, atelier de fabrication"),
    ("atelier", "Atelier partagé, réparation"),
    ("cafe", "Café associatif, lieu de rencontre"),
    ("services", "Services publics, aide au numérique"),
    ("cuisine", "Cuisine partagée, produits locaux"),
];
const ACTIVITIES: &[(&str, &str)] = &[
    ("teletravail", "Télétravailler"),
    ("formation", "Se former au numérique"),
    ("reparer", "Réparer ses objets"),
    ("culture", "Activités culturelles"),
    ("jardin", "Jardinage collectif"),
    ("marche", "Marché de producteurs"),
    ("enfants", "Activités pour les enfants"),
];
const FREQUENCIES: &[(&str, &str)] = &[
    ("semaine", "Chaque semaine"),
    ("mois", "Chaque mois"),
    ("parfois", "De temps en temps"),
    ("jamais", "Jamais"),
];
const CRITERIA: &[(&str, &str)] = &[
    ("proximite", "Proximité"),
    ("horaires", "Horaires d'ouverture"),
    ("cout", "Coût"),
    ("convivialite", "Convivialité"),
];
const IDEAS: &[&str] = &[
    "Un lieu ouvert le samedi matin avec le marché",
    "Une bonne connexion internet pour télétravailler",
    "Des ateliers pour les aînés sur les démarches en ligne",
    "Un repair café une fois par mois",
    "Un espace pour les jeunes le mercredi",
];

fn questions() -> Vec<pb::SurveyQuestion> {
    use pb::survey_question::Kind;
    let question = |id: &str, text: &str, required: bool, kind: Kind| pb::SurveyQuestion {
        question_id: id.to_owned(),
        text: text.to_owned(),
        required,
        kind: Some(kind),
    };
    vec![
        question(
            "usage",
            "Quel usage d'un tiers-lieu vous intéresse le plus ?",
            true,
            Kind::SingleChoice(pb::SurveySingleChoice {
                options: options(USES),
            }),
        ),
        question(
            "activites",
            "Quelles activités aimeriez-vous y trouver ? (trois au plus)",
            true,
            Kind::MultipleChoice(pb::SurveyMultipleChoice {
                options: options(ACTIVITIES),
                max_selections: 3,
            }),
        ),
        question(
            "distance",
            "Fréquenteriez-vous un tiers-lieu à moins de 15 minutes de chez vous ?",
            true,
            Kind::Scale(pb::SurveyScale {
                min: 1,
                max: 5,
                min_label: "Pas du tout".to_owned(),
                max_label: "Certainement".to_owned(),
            }),
        ),
        question(
            "frequence",
            "À quelle fréquence ?",
            true,
            Kind::SingleChoice(pb::SurveySingleChoice {
                options: options(FREQUENCIES),
            }),
        ),
        question(
            "criteres",
            "Classez ces critères du plus au moins important",
            false,
            Kind::Ranking(pb::SurveyRanking {
                options: options(CRITERIA),
            }),
        ),
        question(
            "idee",
            "Une idée, une attente ?",
            false,
            Kind::FreeText(pb::SurveyFreeText { max_length: 500 }),
        ),
    ]
}

/// Draws an index in `0..weights.len()` with the given weights.
fn weighted(rng: &mut impl Rng, weights: &[u32]) -> usize {
    let total: u32 = weights.iter().sum();
    let mut pick = rng.gen_range(0..total.max(1));
    for (index, weight) in weights.iter().enumerate() {
        if pick < *weight {
            return index;
        }
        pick -= weight;
    }
    0
}

fn answers(rng: &mut impl Rng, audience: Audience) -> Vec<pb::SurveyAnswer> {
    let answer = |id: &str, value: Value| pb::SurveyAnswer {
        question_id: id.to_owned(),
        value: Some(value),
    };
    // Businesses lean to coworking and workshops, the population to meeting places and services.
    let use_weights: &[u32] = match audience {
        Audience::Businesses => &[8, 4, 5, 1, 1, 1],
        Audience::Associations => &[1, 2, 3, 7, 2, 4],
        _ => &[4, 2, 3, 6, 5, 3],
    };
    let usage = USES[weighted(rng, use_weights)].0;
    let mut activities: Vec<&str> = ACTIVITIES.iter().map(|(id, _)| *id).collect();
    activities.shuffle(rng);
    let chosen = rng.gen_range(1..=3);
    let distance = [1, 2, 3, 4, 4, 5, 5, 5][rng.gen_range(0..8)];
    let frequency = FREQUENCIES[weighted(rng, &[3, 5, 6, 1])].0;
    let mut result = vec![
        answer("usage", Value::Choice(usage.to_owned())),
        answer(
            "activites",
            Value::Choices(pb::SurveyOptionList {
                option_ids: activities[..chosen]
                    .iter()
                    .map(|id| (*id).to_owned())
                    .collect(),
            }),
        ),
        answer("distance", Value::Scale(distance)),
        answer("frequence", Value::Choice(frequency.to_owned())),
    ];
    if rng.gen_bool(0.7) {
        let mut ranking: Vec<String> = CRITERIA.iter().map(|(id, _)| (*id).to_owned()).collect();
        ranking.shuffle(rng);
        // Proximity comes first more often than not.
        if rng.gen_bool(0.5) {
            if let Some(position) = ranking.iter().position(|id| id == "proximite") {
                ranking.swap(0, position);
            }
        }
        result.push(answer(
            "criteres",
            Value::Ranking(pb::SurveyOptionList {
                option_ids: ranking,
            }),
        ));
    }
    if rng.gen_bool(0.15) {
        let idea = IDEAS.choose(rng).copied().unwrap_or(IDEAS[0]);
        result.push(answer("idee", Value::Text(idea.to_owned())));
    }
    result
}

async fn command(
    player: &mut Player,
    step: &str,
    result: Result<tonic::Response<pb::CommandReply>, tonic::Status>,
) -> anyhow::Result<String> {
    let reply = player.answer(step, result)?;
    Ok(player.done(ENGAGEMENT, reply))
}

/// Runs the survey; returns its id.
pub async fn survey(
    player: &mut Player,
    plan: &Plan,
    campaign_id: &str,
    axes: &Axes,
) -> anyhow::Result<String> {
    player.phase("Enquête auprès de la population");
    let request = pb::DraftSurveyRequest {
        axis_ids: vec![axes.consult.clone()],
        campaign_action_ids: Vec::new(),
        request_id: player.request_id(),
        title: "Enquête : un tiers-lieu dans le Castelrenaudais, pour quoi faire ?".to_owned(),
        description: "Questionnaire anonyme diffusé après la campagne d'information.".to_owned(),
        campaign_action_id: campaign_id.to_owned(),
        themes: Vec::new(),
        topics: vec![Theme::QuelsTla as i32, Theme::Telework as i32],
        questions: questions(),
        slug: String::new(),
    };
    let result = player.engagement.draft_survey(request).await;
    let id = command(player, "enquête rédigée", result).await?;
    let request = pb::OpenSurveyRequest {
        campaign_override: None,
        request_id: player.request_id(),
        survey_id: id.clone(),
        expected_version: None,
    };
    let result = player.engagement.open_survey(request).await;
    command(player, "ouverture de l'enquête", result).await?;

    let responses = player.scaled(RESPONSES, 12);
    for _ in 0..responses {
        let audience = [
            Audience::Population,
            Audience::Businesses,
            Audience::Associations,
            Audience::Elus,
        ][weighted(&mut player.rng, &[80, 10, 7, 3])];
        let commune = plan.weighted_commune(&mut player.rng).code.clone();
        let answers = answers(&mut player.rng, audience);
        let request = pb::SubmitSurveyResponseRequest {
            request_id: player.request_id(),
            survey_id: id.clone(),
            respondent: Some(pb::SurveyRespondent {
                who: Some(pb::survey_respondent::Who::Anonymous(
                    pb::AnonymousParticipant {
                        audience: audience as i32,
                        commune_code: commune,
                    },
                )),
            }),
            respondent_token: String::new(),
            answers,
        };
        let result = player.engagement.submit_survey_response(request).await;
        command(player, "réponse à l'enquête", result).await?;
    }
    let request = pb::CloseSurveyRequest {
        request_id: player.request_id(),
        survey_id: id.clone(),
        expected_version: None,
    };
    let result = player.engagement.close_survey(request).await;
    command(player, "clôture de l'enquête", result).await?;
    Ok(id)
}

/// Interviews with élus, business leaders and anonymous inhabitants, which
/// complete the survey `survey_id`; returns their ids.
pub async fn interviews(
    player: &mut Player,
    plan: &Plan,
    cast: &Cast,
    axes: &Axes,
    survey_id: &str,
    codes: &Codes,
) -> anyhow::Result<Vec<String>> {
    use pb::interview_subject::Who;
    player.phase("Entretiens");
    let mut subjects: Vec<Who> = Vec::new();
    subjects.extend(
        cast.elus
            .iter()
            .take(3)
            .map(|e| Who::StakeholderId(e.id.clone())),
    );
    subjects.extend(
        cast.leaders
            .iter()
            .take(3)
            .map(|l| Who::StakeholderId(l.id.clone())),
    );
    for _ in 0..3 {
        let commune = plan.weighted_commune(&mut player.rng).code.clone();
        subjects.push(Who::Anonymous(pb::AnonymousParticipant {
            audience: Audience::Population as i32,
            commune_code: commune,
        }));
    }
    let motivations = [
        "Rompre l'isolement du travail à domicile",
        "Garder les jeunes actifs sur le territoire",
        "Faire vivre le centre-bourg",
        "Partager des équipements coûteux",
    ];
    // The codes of the statements above, in the same order.
    let motivation_codes = ["isolement", "jeunes", "bourg", "equipements"];
    let expectations = [
        "Un accès internet très haut débit",
        "Des horaires adaptés aux actifs",
        "Un lieu accessible sans voiture",
        "Un accompagnement aux démarches en ligne",
    ];
    let expectation_codes = ["debit", "horaires", "sans-voiture", "demarches"];
    let mut ids = Vec::new();
    for (index, subject) in subjects.into_iter().enumerate() {
        let day = 70 + index as i64 * 7 + player.rng.gen_range(0..5);
        let request = pb::RecordInterviewRequest {
            axis_ids: vec![axes.consult.clone()],
            request_id: player.request_id(),
            subject: Some(pb::InterviewSubject { who: Some(subject) }),
            conducted_at: Some(campaign_day(day, 10)),
            themes: Vec::new(),
            topics: vec![
                Theme::QuelsTla as i32,
                [Theme::Telework, Theme::Mobility, Theme::EconomicModel][index % 3] as i32,
            ],
            motivations: vec![motivations[index % motivations.len()].to_owned()],
            expectations: vec![
                expectations[index % expectations.len()].to_owned(),
                expectations[(index + 1) % expectations.len()].to_owned(),
            ],
            notes: "Entretien semi-directif d'une heure.".to_owned(),
            survey_id: survey_id.to_owned(),
            motivation_codes: codes.ids(&[motivation_codes[index % motivation_codes.len()]]),
            expectation_codes: codes.ids(&[
                expectation_codes[index % expectation_codes.len()],
                expectation_codes[(index + 1) % expectation_codes.len()],
            ]),
        };
        let result = player.engagement.record_interview(request).await;
        ids.push(command(player, "entretien", result).await?);
    }
    Ok(ids)
}

/// Recodes the first of `interviews` on a second reading: a second
/// motivation heard, the expectations unchanged.
pub async fn recode(
    player: &mut Player,
    interviews: &[String],
    codes: &Codes,
    survey_id: &str,
) -> anyhow::Result<()> {
    let Some(id) = interviews.first() else {
        return Ok(());
    };
    let request = pb::RecodeInterviewRequest {
        request_id: player.request_id(),
        interview_id: id.clone(),
        expected_version: None,
        motivation_codes: codes.ids(&["isolement", "jeunes"]),
        expectation_codes: codes.ids(&["debit", "horaires"]),
        survey_id: survey_id.to_owned(),
        reason: "Relecture de l'entretien : une seconde motivation entendue".to_owned(),
    };
    let result = player.engagement.recode_interview(request).await;
    command(player, "entretien recodé", result).await?;
    Ok(())
}

/// The in-depth diagnostics of the two existing tiers-lieux; returns their ids.
pub async fn diagnostics(
    player: &mut Player,
    cast: &Cast,
    codes: &Codes,
) -> anyhow::Result<Vec<String>> {
    player.phase("Diagnostics des tiers-lieux existants");
    let findings = [
        pb::DiagnosticFindings {
            initial_motivations: vec![
                "Offrir un lieu de travail aux indépendants de Château-Renault".to_owned(),
                "Donner accès à des machines de fabrication numérique".to_owned(),
            ],
            development_priorities: vec![
                "Accueillir des formations avec la CMA".to_owned(),
                "Élargir les horaires du coworking".to_owned(),
                "Équilibrer le modèle économique".to_owned(),
            ],
            out_of_scope_activities: vec!["Restauration".to_owned(), "Hébergement".to_owned()],
            needs: vec!["Un poste d'animateur à mi-temps".to_owned()],
            initial_motivation_codes: codes.ids(&["isolement", "equipements"]),
            priority_codes: codes.ids(&["formations", "modele"]),
            refusal_codes: codes.ids(&["restauration", "hebergement"]),
            need_codes: codes.ids(&["animation"]),
        },
        pb::DiagnosticFindings {
            initial_motivations: vec![
                "Créer un lieu de rencontre entre habitants".to_owned(),
                "Valoriser les produits des fermes voisines".to_owned(),
            ],
            development_priorities: vec![
                "Ouvrir un atelier de réparation".to_owned(),
                "Programmer des activités culturelles".to_owned(),
            ],
            out_of_scope_activities: vec!["Espace de coworking".to_owned()],
            needs: vec![
                "Mise aux normes du bâtiment".to_owned(),
                "Bénévoles pour les permanences".to_owned(),
            ],
            initial_motivation_codes: codes.ids(&["bourg", "equipements"]),
            priority_codes: codes.ids(&["reparation", "culture"]),
            refusal_codes: codes.ids(&["coworking"]),
            need_codes: codes.ids(&["batiment", "animation"]),
        },
    ];
    let mut ids = Vec::new();
    for (index, (tiers_lieu, findings)) in cast.tiers_lieux.iter().zip(findings).enumerate() {
        let request = pb::RecordDiagnosticRequest {
            request_id: player.request_id(),
            tiers_lieu_id: tiers_lieu.id.clone(),
            conducted_at: Some(campaign_day(38 + index as i64 * 9, 14)),
            findings: Some(findings),
            notes: "Visite des locaux et entretien avec l'équipe.".to_owned(),
        };
        let result = player.engagement.record_diagnostic(request).await;
        ids.push(command(player, "diagnostic", result).await?);
    }
    Ok(ids)
}
