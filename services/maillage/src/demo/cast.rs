//! Act 1 of the demo: the territory's actors registered through the stakeholders API —
//! the communauté de communes and some mairies, élus with their mandates (imported
//! from Répertoire national des élus files: [`super::elus`]), TPE/PME and
//! their leaders, the CCI, CMA and chambre d'agriculture, associations, two existing
//! tiers-lieux with their managers, and public agents.

use maillage_proto::v1 as pb;
use pb::organisation_profile::Details;
use rand::Rng;

use super::calendar::at;
use super::names;
use super::plan::{commune_ref, Plan, CHAMBRAY, SEAT, TOURS};
use super::player::Player;

const STAKEHOLDERS: &str = maillage_stakeholders::CONTEXT;

/// A registered organisation and where it is.
#[derive(Debug, Clone)]
pub struct Org {
    /// Its stakeholder id.
    pub id: String,
    /// Its name, as registered.
    pub name: String,
    /// INSEE code of the commune where it is.
    pub commune: String,
}

/// A registered person, where they are, and their main role.
#[derive(Debug, Clone)]
pub struct Person {
    /// Their stakeholder id.
    pub id: String,
    /// INSEE code of the commune where they are.
    pub commune: String,
    /// Their main role, in French as the story shows it (e.g. `président`, `agent France services`).
    pub role: &'static str,
}

/// Everyone the story involves.
#[derive(Debug, Default)]
pub struct Cast {
    /// The communauté de communes (the founding collectivité).
    pub epci: Option<Org>,
    /// Mairies that join the consortium.
    pub mairies: Vec<Org>,
    /// The président of the communauté de communes (also first of `elus`).
    pub president: Option<Person>,
    /// Élus, the président first.
    pub elus: Vec<Person>,
    /// Businesses of the territory.
    pub businesses: Vec<Org>,
    /// Business leaders, parallel to the first businesses.
    pub leaders: Vec<Person>,
    /// CCI, CMA, chambre d'agriculture.
    pub chambers: Vec<Org>,
    /// Associations of the territory.
    pub associations: Vec<Org>,
    /// Tiers-lieux of the territory.
    pub tiers_lieux: Vec<Org>,
    /// Tiers-lieux managers, parallel to `tiers_lieux`.
    pub managers: Vec<Person>,
    /// Public agents of the communauté de communes, at its seat.
    pub agents: Vec<Person>,
    /// The directrice générale des services of the communauté de communes.
    pub dgs: Option<Person>,
}

impl Cast {
    /// The communauté de communes (registered first: always there).
    pub fn epci(&self) -> anyhow::Result<&Org> {
        self.epci
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("the demo's EPCI was not registered"))
    }
}

async fn organisation(
    player: &mut Player,
    name: String,
    commune: &str,
    details: Details,
) -> anyhow::Result<Org> {
    let request = pb::RegisterOrganisationRequest {
        request_id: player.request_id(),
        profile: Some(pb::OrganisationProfile {
            name: name.clone(),
            commune_code: commune.to_owned(),
            siren: String::new(),
            details: Some(details),
        }),
    };
    let result = player.stakeholders.register_organisation(request).await;
    let reply = player.answer("inscription d'une organisation", result)?;
    Ok(Org {
        id: player.done(STAKEHOLDERS, reply),
        name,
        commune: commune.to_owned(),
    })
}

async fn person(
    player: &mut Player,
    kinds: &[pb::PersonKind],
    commune: &str,
    mandates: Vec<pb::MandateInput>,
    role: &'static str,
) -> anyhow::Result<Person> {
    let (given, family) = names::person(&mut player.rng);
    let email = names::email(&given, &family, "exemple.fr");
    let phone = if player.rng.gen_bool(0.6) {
        names::phone(&mut player.rng)
    } else {
        String::new()
    };
    let request = pb::RegisterPersonRequest {
        request_id: player.request_id(),
        profile: Some(pb::PersonProfile {
            given_name: given,
            family_name: family,
            kinds: kinds.iter().map(|kind| *kind as i32).collect(),
            commune_code: commune.to_owned(),
            email,
            phone,
            postal_address: String::new(),
            notes: String::new(),
            birth_date: String::new(),
        }),
        mandates,
    };
    let result = player.stakeholders.register_person(request).await;
    let reply = player.answer("inscription d'une personne", result)?;
    let id = player.done(STAKEHOLDERS, reply);
    // Élus and agents are contacted for a public-interest mission (news of
    // the project, invitations); others consented, the newsletter too.
    let (basis, purposes) = if kinds.contains(&pb::PersonKind::ElectedOfficial)
        || kinds.contains(&pb::PersonKind::PublicAgent)
    {
        (
            pb::LegalBasis::PublicInterestMission,
            vec![
                pb::ConsentPurpose::ProjectInformation as i32,
                pb::ConsentPurpose::Invitations as i32,
            ],
        )
    } else {
        (
            pb::LegalBasis::Consent,
            vec![
                pb::ConsentPurpose::ProjectInformation as i32,
                pb::ConsentPurpose::Invitations as i32,
                pb::ConsentPurpose::Newsletter as i32,
            ],
        )
    };
    let request = pb::RecordConsentRequest {
        request_id: player.request_id(),
        stakeholder_id: id.clone(),
        expected_version: None,
        channel: pb::ConsentChannel::Email as i32,
        legal_basis: basis as i32,
        purposes,
    };
    let result = player.stakeholders.record_consent(request).await;
    let reply = player.answer("consentement", result)?;
    player.done(STAKEHOLDERS, reply);
    Ok(Person {
        id,
        commune: commune.to_owned(),
        role,
    })
}

async fn affiliate(
    player: &mut Player,
    person: &Person,
    organisation: &Org,
    role: &str,
) -> anyhow::Result<()> {
    let request = pb::AddAffiliationRequest {
        request_id: player.request_id(),
        stakeholder_id: person.id.clone(),
        expected_version: None,
        organisation_id: organisation.id.clone(),
        role: role.to_owned(),
        started_at: Some(at(2026, 4, 1, 9, 0)),
    };
    let result = player.stakeholders.add_affiliation(request).await;
    let reply = player.answer("affiliation", result)?;
    player.done(STAKEHOLDERS, reply);
    Ok(())
}

/// The role of the agent who is the collectivité's designated officer.
const DGS_ROLE: &str = "directrice générale des services";

/// Registers everyone.
pub async fn register(player: &mut Player, plan: &Plan) -> anyhow::Result<Cast> {
    use pb::PersonKind as Kind;
    player.phase("Acteurs du territoire");
    let mut cast = Cast::default();
    let epci_ref = plan.epci_ref();

    let epci = organisation(
        player,
        "Communauté de communes du Castelrenaudais".to_owned(),
        SEAT,
        Details::LocalAuthority(pb::LocalAuthorityDetails {
            authority: Some(epci_ref.clone()),
        }),
    )
    .await?;
    cast.epci = Some(epci.clone());

    // Élus: the président, then maires, adjoints and a conseiller municipal,
    // imported from the Répertoire national des élus' files (see `elus`).
    let elus = super::elus::import(player, plan, &epci).await?;
    cast.president = elus.first().cloned();
    cast.elus = elus;

    // Mairies that will sit in the consortium.
    for commune in plan.elu_communes.iter().take(4) {
        let mairie = organisation(
            player,
            format!("Commune de {}", commune.name),
            &commune.code,
            Details::LocalAuthority(pb::LocalAuthorityDetails {
                authority: Some(commune_ref(&commune.code)),
            }),
        )
        .await?;
        cast.mairies.push(mairie);
    }

    // Chambers (outside the EPCI, as they really are).
    for (name, commune, kind) in [
        ("CCI Touraine", TOURS, pb::ChamberKind::Cci),
        (
            "Chambre de métiers et de l'artisanat d'Indre-et-Loire",
            TOURS,
            pb::ChamberKind::Cma,
        ),
        (
            "Chambre d'agriculture d'Indre-et-Loire",
            CHAMBRAY,
            pb::ChamberKind::Agriculture,
        ),
    ] {
        let chamber = organisation(
            player,
            name.to_owned(),
            commune,
            Details::Chamber(pb::ChamberDetails { kind: kind as i32 }),
        )
        .await?;
        cast.chambers.push(chamber);
    }

    // TPE/PME, a leader for most of them.
    for index in 0..14 {
        let (name, sector) = names::business(&mut player.rng);
        let commune = plan.weighted_commune(&mut player.rng).code.clone();
        let size = if index % 5 == 4 {
            pb::BusinessSize::Pme
        } else {
            pb::BusinessSize::Tpe
        };
        let business = organisation(
            player,
            name,
            &commune,
            Details::Business(pb::BusinessDetails {
                size: size as i32,
                sector,
            }),
        )
        .await?;
        if index < 10 {
            let leader = person(
                player,
                &[Kind::BusinessLeader],
                &commune,
                Vec::new(),
                "chef d'entreprise",
            )
            .await?;
            affiliate(player, &leader, &business, "gérant·e").await?;
            cast.leaders.push(leader);
        }
        cast.businesses.push(business);
    }

    // Associations.
    for index in 0..6 {
        let commune = plan.any_active(&mut player.rng);
        let association = organisation(
            player,
            names::association(index, &commune.name),
            &commune.code,
            Details::Association(pb::AssociationDetails {}),
        )
        .await?;
        cast.associations.push(association);
    }

    // Two existing tiers-lieux and their managers.
    let second = plan.active.get(1).unwrap_or(&plan.active[0]);
    for (name, commune, typologies) in [
        (
            "La Fabrique du Castelrenaudais",
            plan.active[0],
            vec![
                pb::TiersLieuTypology::Coworking,
                pb::TiersLieuTypology::FablabMakerspace,
            ],
        ),
        (
            "Le Grenier des Gâtines",
            *second,
            vec![
                pb::TiersLieuTypology::SharedWorkshop,
                pb::TiersLieuTypology::FoodGarden,
                pb::TiersLieuTypology::Cultural,
            ],
        ),
    ] {
        let tiers_lieu = organisation(
            player,
            name.to_owned(),
            &commune.code,
            Details::TiersLieu(pb::TiersLieuDetails {
                typologies: typologies.into_iter().map(|t| t as i32).collect(),
                status: pb::TiersLieuStatus::Open as i32,
            }),
        )
        .await?;
        let manager = person(
            player,
            &[Kind::TiersLieuManager, Kind::AssociationMember],
            &commune.code,
            Vec::new(),
            "gestionnaire de tiers-lieu",
        )
        .await?;
        affiliate(player, &manager, &tiers_lieu, "coordinatrice").await?;
        cast.tiers_lieux.push(tiers_lieu);
        cast.managers.push(manager);
    }

    // Public agents of the communauté de communes (development officer, France services).
    for role in ["chargée de développement", "agent France services"] {
        let agent = person(player, &[Kind::PublicAgent], SEAT, Vec::new(), role).await?;
        affiliate(player, &agent, &epci, role).await?;
        cast.agents.push(agent);
    }
    // The DGS the collectivité designates as the programme's officer (see
    // `super::programme`), drawn from a stream of her own: every draw after
    // stays what it was before she joined the story.
    let story = player.rng.clone();
    player.rng.set_stream(1);
    let dgs = person(player, &[Kind::PublicAgent], SEAT, Vec::new(), DGS_ROLE).await?;
    player.rng = story;
    affiliate(player, &dgs, &epci, DGS_ROLE).await?;
    cast.dgs = Some(dgs);
    Ok(cast)
}
