//! Act 5 of the demo: the consortium the communauté de communes founds — colleges with
//! voting weights, bodies, applications and admissions, representatives; a general
//! assembly with attendance, proxies, resolutions and weighted votes; then the action
//! plan's commitments (from a resolution and from roundtable outcomes) and their progress.

use maillage_proto::v1 as pb;
use rand::Rng;

use super::calendar::{at, campaign_day};
use super::cast::{Cast, Org};
use super::plan::Plan;
use super::player::Player;
use super::programme::Axes;

const GOVERNANCE: &str = maillage_governance::CONTEXT;

async fn command(
    player: &mut Player,
    step: &str,
    result: Result<tonic::Response<pb::CommandReply>, tonic::Status>,
) -> anyhow::Result<String> {
    let reply = player.answer(step, result)?;
    Ok(player.done(GOVERNANCE, reply))
}

/// The consortium's id, for the report.
pub struct Consortium {
    /// The consortium's id (a UUID).
    pub id: String,
}

fn fraction(numerator: u64, denominator: u64) -> pb::ShareFraction {
    pb::ShareFraction {
        numerator,
        denominator,
    }
}

/// Plays the consortium's life.
pub async fn play(
    player: &mut Player,
    plan: &Plan,
    cast: &Cast,
    roundtable_outcomes: &[(String, String, String)],
    axes: &Axes,
) -> anyhow::Result<Consortium> {
    player.phase("Consortium : fondation, assemblée générale, engagements");
    let epci = cast.epci()?.clone();
    let request = pb::FoundConsortiumRequest {
        request_id: player.request_id(),
        name: "Consortium des tiers-lieux du Castelrenaudais".to_owned(),
        founding_collectivite_id: epci.id.clone(),
        territory: vec![plan.epci_ref()],
        purpose: "Coordonner le développement d'un réseau de tiers-lieux ruraux".to_owned(),
        charter: "Charte adoptée par le conseil communautaire".to_owned(),
    };
    let result = player.governance.found_consortium(request).await;
    let consortium = command(player, "fondation du consortium", result).await?;

    let colleges = [
        ("collectivites", "Collectivités", 40),
        ("entreprises", "Entreprises", 25),
        ("associations", "Associations", 15),
        ("tiers-lieux", "Tiers-lieux", 10),
        ("chambres", "Chambres consulaires", 10),
    ];
    for (code, name, weight) in colleges {
        let request = pb::DefineCollegeRequest {
            request_id: player.request_id(),
            consortium_id: consortium.clone(),
            expected_version: None,
            college_code: code.to_owned(),
            name: name.to_owned(),
            weight,
        };
        let result = player.governance.define_college(request).await;
        command(player, "collège", result).await?;
    }
    let bodies = [
        (
            "ag",
            pb::BodyKind::GeneralAssembly,
            "Assemblée générale",
            colleges.iter().map(|c| c.0).collect::<Vec<_>>(),
            fraction(1, 2),
            pb::MajorityRule::Simple,
        ),
        (
            "copil",
            pb::BodyKind::SteeringCommittee,
            "Comité de pilotage",
            vec!["collectivites", "tiers-lieux", "chambres"],
            fraction(2, 3),
            pb::MajorityRule::Absolute,
        ),
    ];
    for (code, kind, name, sitting, quorum, majority) in bodies {
        let request = pb::EstablishBodyRequest {
            request_id: player.request_id(),
            consortium_id: consortium.clone(),
            expected_version: None,
            body_code: code.to_owned(),
            kind: kind as i32,
            name: name.to_owned(),
            college_codes: sitting.into_iter().map(str::to_owned).collect(),
            rules: Some(pb::BodyRules {
                quorum: Some(quorum),
                majority: majority as i32,
                max_proxies_per_member: 1,
            }),
        };
        let result = player.governance.establish_body(request).await;
        command(player, "instance", result).await?;
    }

    // Applications: most are admitted, one business is refused, one association waits.
    let mut admitted: Vec<(Org, &str)> = Vec::new();
    let mut candidates: Vec<(&Org, &str, Decision)> =
        vec![(&epci, "collectivites", Decision::Admit)];
    candidates.extend(
        cast.mairies
            .iter()
            .map(|m| (m, "collectivites", Decision::Admit)),
    );
    candidates.extend(
        cast.businesses
            .iter()
            .take(6)
            .map(|b| (b, "entreprises", Decision::Admit)),
    );
    if let Some(business) = cast.businesses.get(6) {
        candidates.push((business, "entreprises", Decision::Refuse));
    }
    candidates.extend(
        cast.associations
            .iter()
            .take(3)
            .map(|a| (a, "associations", Decision::Admit)),
    );
    if let Some(association) = cast.associations.get(3) {
        candidates.push((association, "associations", Decision::Wait));
    }
    candidates.extend(
        cast.tiers_lieux
            .iter()
            .map(|t| (t, "tiers-lieux", Decision::Admit)),
    );
    candidates.extend(
        cast.chambers
            .iter()
            .map(|c| (c, "chambres", Decision::Admit)),
    );
    for (organisation, college, decision) in candidates {
        let request = pb::ApplyForMembershipRequest {
            request_id: player.request_id(),
            consortium_id: consortium.clone(),
            expected_version: None,
            organisation_id: organisation.id.clone(),
            college_code: college.to_owned(),
        };
        let result = player.governance.apply_for_membership(request).await;
        command(player, "candidature", result).await?;
        match decision {
            Decision::Admit => {
                let request = pb::AdmitMemberRequest {
                    request_id: player.request_id(),
                    consortium_id: consortium.clone(),
                    expected_version: None,
                    member_id: organisation.id.clone(),
                };
                let result = player.governance.admit_member(request).await;
                command(player, "admission", result).await?;
                admitted.push((organisation.clone(), college));
            }
            Decision::Refuse => {
                let request = pb::RefuseMembershipRequest {
                    request_id: player.request_id(),
                    consortium_id: consortium.clone(),
                    expected_version: None,
                    member_id: organisation.id.clone(),
                    reason: "Activité sans lien avec l'objet du consortium".to_owned(),
                };
                let result = player.governance.refuse_membership(request).await;
                command(player, "refus", result).await?;
            }
            Decision::Wait => {}
        }
    }

    // Representatives.
    let mut representatives: Vec<(String, String)> = Vec::new();
    if let Some(president) = &cast.president {
        representatives.push((epci.id.clone(), president.id.clone()));
    }
    representatives.extend(
        cast.tiers_lieux
            .iter()
            .zip(&cast.managers)
            .map(|(t, m)| (t.id.clone(), m.id.clone())),
    );
    representatives.extend(
        cast.businesses
            .iter()
            .zip(&cast.leaders)
            .take(6)
            .map(|(b, l)| (b.id.clone(), l.id.clone())),
    );
    for (member, person) in representatives {
        let request = pb::AppointRepresentativeRequest {
            request_id: player.request_id(),
            consortium_id: consortium.clone(),
            expected_version: None,
            member_id: member,
            person_id: person,
        };
        let result = player.governance.appoint_representative(request).await;
        command(player, "représentant", result).await?;
    }

    // The general assembly.
    let agenda = [
        "Adoption de la charte du réseau",
        "Programme d'actions 2027",
        "Cotisation annuelle des membres",
    ];
    let request = pb::ConveneMeetingRequest {
        request_id: player.request_id(),
        consortium_id: consortium.clone(),
        body_code: "ag".to_owned(),
        scheduled_at: Some(campaign_day(165, 18)),
        venue: Some(pb::MeetingVenue {
            commune_code: plan.active[0].code.clone(),
            place: "La Fabrique du Castelrenaudais".to_owned(),
            online: false,
        }),
        agenda: agenda.iter().map(|item| (*item).to_owned()).collect(),
    };
    let result = player.governance.convene_meeting(request).await;
    let meeting = command(player, "convocation de l'assemblée générale", result).await?;
    // Three in four come; some absent members give a proxy to one present.
    let mut present = Vec::new();
    let mut absent = Vec::new();
    for (member, _) in &admitted {
        if member.id == epci.id || player.rng.gen_bool(0.75) {
            present.push(member.id.clone());
        } else {
            absent.push(member.id.clone());
        }
    }
    let proxies: Vec<pb::ProxyGrant> = absent
        .iter()
        .take(2)
        .zip(present.iter().skip(1))
        .map(|(giver, holder)| pb::ProxyGrant {
            giver_id: giver.clone(),
            holder_id: holder.clone(),
        })
        .collect();
    let mut voters = present.clone();
    voters.extend(proxies.iter().map(|p| p.giver_id.clone()));
    let request = pb::RecordMeetingAttendanceRequest {
        request_id: player.request_id(),
        meeting_id: meeting.clone(),
        expected_version: None,
        present_member_ids: present,
        proxies,
    };
    let result = player.governance.record_meeting_attendance(request).await;
    command(player, "présences et pouvoirs", result).await?;

    let support = [0.92, 0.8, 0.4];
    let mut adopted_programme = None;
    for (index, title) in agenda.iter().enumerate() {
        let request = pb::TableResolutionRequest {
            request_id: player.request_id(),
            meeting_id: meeting.clone(),
            expected_version: None,
            agenda_item: index as u32 + 1,
            title: (*title).to_owned(),
            text: format!("L'assemblée générale approuve : {title}."),
        };
        let result = player.governance.table_resolution(request).await;
        let tabled = player.answer("résolution", result)?;
        let resolution = tabled.resolution_id.clone();
        player.done(GOVERNANCE, tabled.reply.unwrap_or_default());
        for voter in &voters {
            let roll: f64 = player.rng.gen();
            let choice = if roll < support[index] {
                pb::VoteChoice::For
            } else if roll < support[index] + (1.0 - support[index]) / 2.0 {
                pb::VoteChoice::Against
            } else {
                pb::VoteChoice::Abstain
            };
            let request = pb::RecordVoteRequest {
                request_id: player.request_id(),
                meeting_id: meeting.clone(),
                expected_version: None,
                resolution_id: resolution.clone(),
                member_id: voter.clone(),
                choice: choice as i32,
            };
            let result = player.governance.record_vote(request).await;
            command(player, "vote", result).await?;
        }
        let request = pb::CloseVoteRequest {
            request_id: player.request_id(),
            meeting_id: meeting.clone(),
            expected_version: None,
            resolution_id: resolution.clone(),
        };
        let result = player.governance.close_vote(request).await;
        let closed = player.answer("clôture du vote", result)?;
        let outcome = closed.outcome;
        player.done(GOVERNANCE, closed.reply.unwrap_or_default());
        if index == 1 && outcome == pb::ResolutionStatus::Adopted as i32 {
            adopted_programme = Some(resolution);
        }
    }
    let request = pb::ApproveMeetingMinutesRequest {
        request_id: player.request_id(),
        meeting_id: meeting.clone(),
        expected_version: None,
        minutes_uri: "archives://consortium-castelrenaudais/ag-2026-10-16.pdf".to_owned(),
        minutes_digest: format!("blake3:{}", blake3::hash(meeting.as_bytes()).to_hex()),
    };
    let result = player.governance.approve_meeting_minutes(request).await;
    command(player, "procès-verbal", result).await?;

    // Commitments: from the programme's resolution and from the roundtables' outcomes.
    use pb::make_commitment_request::Origin;
    let mut commitments: Vec<(String, String, prost_types::Timestamp, pb::Theme, Origin)> =
        Vec::new();
    if let Some(resolution) = adopted_programme {
        commitments.push((
            "Ouvrir un espace de coworking au centre de Château-Renault".to_owned(),
            epci.id.clone(),
            at(2027, 6, 30, 12, 0),
            pb::Theme::Telework,
            Origin::Resolution(pb::ResolutionRef {
                meeting_id: meeting.clone(),
                resolution_id: resolution,
            }),
        ));
    }
    let members: Vec<&str> = admitted.iter().map(|(m, _)| m.id.as_str()).collect();
    let due = [
        at(2027, 3, 31, 12, 0),
        at(2026, 11, 15, 12, 0),
        at(2027, 9, 30, 12, 0),
    ];
    let themes = [
        pb::Theme::SkillsTraining,
        pb::Theme::BusinessConvergence,
        pb::Theme::DigitalInclusion,
    ];
    for (index, (outcome, proposal, owner)) in roundtable_outcomes.iter().enumerate() {
        let owner = if members.contains(&owner.as_str()) {
            owner.clone()
        } else {
            epci.id.clone()
        };
        commitments.push((
            proposal.clone(),
            owner,
            due[index % due.len()],
            themes[index % themes.len()],
            Origin::RoundtableOutcomeId(outcome.clone()),
        ));
    }
    let progress = [
        (vec![15, 40], false),
        (vec![25, 60], false),
        (vec![30], false),
        (vec![50, 100], true),
    ];
    for (index, (title, owner, due_at, theme, origin)) in commitments.into_iter().enumerate() {
        // What a resolution commits to structures the offer; what a
        // roundtable proposed comes of the concertation.
        let axis = match &origin {
            Origin::RoundtableOutcomeId(_) => &axes.consult,
            Origin::Resolution(_) => &axes.structure,
        };
        let request = pb::MakeCommitmentRequest {
            request_id: player.request_id(),
            consortium_id: consortium.clone(),
            title,
            owner_member_id: owner,
            due_at: Some(due_at),
            theme: String::new(),
            topic: theme as i32,
            origin: Some(origin),
            axis_ids: vec![axis.clone()],
        };
        let result = player.governance.make_commitment(request).await;
        let commitment = command(player, "engagement", result).await?;
        let (steps, complete) = &progress[index % progress.len()];
        for percent in steps {
            let request = pb::ReportCommitmentProgressRequest {
                request_id: player.request_id(),
                commitment_id: commitment.clone(),
                expected_version: None,
                percent: *percent,
                note: format!("Avancement : {percent} %"),
            };
            let result = player.governance.report_commitment_progress(request).await;
            command(player, "avancement", result).await?;
        }
        if *complete {
            let request = pb::CompleteCommitmentRequest {
                request_id: player.request_id(),
                commitment_id: commitment,
                expected_version: None,
            };
            let result = player.governance.complete_commitment(request).await;
            command(player, "engagement tenu", result).await?;
        }
    }
    Ok(Consortium { id: consortium })
}

/// What becomes of an application.
#[derive(Clone, Copy)]
enum Decision {
    Admit,
    Refuse,
    Wait,
}
