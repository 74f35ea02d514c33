//! `maillage import stakeholders` as a user runs it: the real binary against
//! a real platform (sled, gRPC over a socket), with files built here from the
//! documented headers — an RNE maires file filtered to a territory, an RNE
//! conseillers municipaux file in Windows-1252, a SIRENE extract with a BOM
//! and commas, a Maillage CSV — each imported twice (the second run changes
//! nothing), a dry run that writes nothing, bad lines reported by number
//! while the good ones land, and dedupe against a person registered by hand.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;

use common::{text, Platform};
use maillage_proto::v1 as pb;
use maillage_proto::v1::event_log_client::EventLogClient;
use maillage_proto::v1::stakeholders_client::StakeholdersClient;

/// The header of the RNE maires file (data.gouv.fr, 2026).
const MAIRES: &str = "Code du département;Libellé du département;Code de la collectivité à statut particulier;Libellé de la collectivité à statut particulier;Code de la commune;Libellé de la commune;Nom de l'élu;Prénom de l'élu;Code sexe;Date de naissance;Code de la catégorie socio-professionnelle;Libellé de la catégorie socio-professionnelle;Date de début du mandat;Date de début de la fonction";

/// The header of the RNE conseillers municipaux file.
const MUNICIPAUX: &str = "Code du département;Libellé du département;Code de la collectivité à statut particulier;Libellé de la collectivité à statut particulier;Code de la commune;Libellé de la commune;Nom de l'élu;Prénom de l'élu;Code sexe;Date de naissance;Code de la catégorie socio-professionnelle;Libellé de la catégorie socio-professionnelle;Date de début du mandat;Libellé de la fonction;Date de début de la fonction;Code nationalité";

/// The SIRENE StockEtablissement columns an extract keeps.
const SIRENE: &str = "siren,nic,siret,etatAdministratifEtablissement,trancheEffectifsEtablissement,denominationUsuelleEtablissement,enseigne1Etablissement,codeCommuneEtablissement,activitePrincipaleEtablissement";

async fn head(platform: &Platform) -> u64 {
    let mut log = EventLogClient::new(platform.channel().await);
    log.verify(pb::VerifyRequest {
        context: "stakeholders".into(),
    })
    .await
    .unwrap()
    .into_inner()
    .position
}

async fn import(platform: &Platform, file: &std::path::Path, extra: &[&str]) -> String {
    let mut args = vec!["import", "stakeholders", file.to_str().unwrap()];
    args.extend_from_slice(extra);
    let output = platform.maillage(&args).await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    text(&output.stdout)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rne_and_sirene_files_are_imported_once() {
    let platform = Platform::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut stakeholders = StakeholdersClient::new(platform.channel().await);

    // By hand, before any import: Narbonne's maire, with her date of birth.
    let by_hand = stakeholders
        .register_person(pb::RegisterPersonRequest {
            request_id: uuid::Uuid::now_v7().to_string(),
            profile: Some(pb::PersonProfile {
                given_name: "Aurélie".into(),
                family_name: "Castan".into(),
                kinds: vec![pb::PersonKind::ElectedOfficial as i32],
                commune_code: "11262".into(),
                birth_date: "1968-11-30".into(),
                ..Default::default()
            }),
            mandates: vec![],
        })
        .await
        .unwrap()
        .into_inner()
        .id;

    // Maires: three of the Aude, one of Indre-et-Loire (outside the
    // territory), a bad commune (line 6) and a bad date (line 7).
    let maires = [
        MAIRES,
        "11;Aude;;;11069;Carcassonne;LE BIHAN;Éloïse;F;1961-04-02;33;Cadre;2026-03-22;2026-03-28",
        "11;Aude;;;11262;Narbonne;CASTAN;Aurélie;F;1968-11-30;31;Profession libérale;2026-03-22;2026-03-29",
        "37;Indre-et-Loire;;;37063;Tours;DUPONT;Benoît;M;1970-01-01;33;Cadre;2026-03-22;2026-03-28",
        "11;Aude;;;11999;Nulle-Part;MARTIN;Jean;M;1955-06-01;74;Retraité;2026-03-22;2026-03-28",
        "11;Aude;;;11206;Limoux;ROUX;Paul;M;1959-13-45;74;Retraité;2026-03-22;2026-03-28",
        "11;Aude;;;11076;Castelnaudary;SERRES;Anne;F;22/07/1972;52;Employée;22/03/2026;28/03/2026",
    ]
    .join("\n");
    let maires_path = dir.path().join("elus-maires.csv");
    std::fs::write(&maires_path, maires).unwrap();

    // A dry run first: what would happen, nothing written.
    let before = head(&platform).await;
    let dry = import(
        &platform,
        &maires_path,
        &["--territory", "departement:11", "--dry-run"],
    )
    .await;
    assert!(dry.contains("Simulation (--dry-run)"), "{dry}");
    assert!(dry.contains("à créer : 2 · à mettre à jour : 1"), "{dry}");
    assert_eq!(head(&platform).await, before, "a dry run writes nothing");

    let out = import(&platform, &maires_path, &["--territory", "departement:11"]).await;
    assert!(
        out.contains("Format : Répertoire national des élus"),
        "{out}"
    );
    assert!(out.contains("séparateur « ; »"), "{out}");
    assert!(out.contains("Lignes lues : 6"), "{out}");
    assert!(
        out.contains(
            "créées : 2 · mises à jour : 1 · inchangées : 0 · en erreur : 2 · écartées : 1"
        ),
        "{out}"
    );
    assert!(out.contains("écartées (hors du territoire) : 1"), "{out}");
    assert!(
        out.contains("reconnues par le nom, la commune et l'année de naissance : 1"),
        "{out}"
    );
    assert!(
        out.contains("ligne 5 · colonne « Code de la commune » · valeur « 11999 » · commune inconnue du COG 2026"),
        "{out}"
    );
    assert!(
        out.contains("ligne 6 · colonne « Date de naissance » · valeur « 1959-13-45 »"),
        "{out}"
    );
    // The maire registered by hand gained her two mandates.
    let castan = stakeholders
        .get_stakeholder(pb::GetStakeholderRequest {
            stakeholder_id: by_hand.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let offices: Vec<i32> = castan.mandates.iter().map(|m| m.office).collect();
    assert_eq!(
        offices,
        vec![
            pb::MandateOffice::ConseillerMunicipal as i32,
            pb::MandateOffice::Maire as i32
        ]
    );

    // Again: nothing changes.
    let written = head(&platform).await;
    let again = import(&platform, &maires_path, &["--territory", "departement:11"]).await;
    assert!(
        again.contains("créées : 0 · mises à jour : 0 · inchangées : 3 · en erreur : 2"),
        "{again}"
    );
    assert!(again.contains("déjà importées (même ligne) : 3"), "{again}");
    assert_eq!(head(&platform).await, written);

    // The conseillers municipaux, in Windows-1252: the maire again (nothing
    // new), an adjoint (created), a conseiller.
    let municipaux = [
        MUNICIPAUX,
        "11;Aude;;;11069;Carcassonne;LE BIHAN;Éloïse;F;1961-04-02;33;Cadre;2026-03-22;Maire;2026-03-28;FR",
        "11;Aude;;;11069;Carcassonne;FABRE;Hélène;F;1980-02-14;47;Technicienne;2026-03-22;1er adjoint au maire;2026-03-28;FR",
        "11;Aude;;;11069;Carcassonne;\"D'ARC; dite \"\"Jeanne\"\"\";Jeanne;F;1975-05-05;;;2026-03-22;;;FR",
    ]
    .join("\r\n");
    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(&municipaux);
    assert!(!unmappable);
    let municipaux_path = dir.path().join("elus-cm.csv");
    std::fs::write(&municipaux_path, &bytes).unwrap();
    let out = import(
        &platform,
        &municipaux_path,
        &["--territory", "epci:200035715"],
    )
    .await;
    assert!(out.contains("encodage Windows-1252"), "{out}");
    assert!(
        out.contains("créées : 2 · mises à jour : 0 · inchangées : 1 · en erreur : 0"),
        "{out}"
    );
    let again = import(&platform, &municipaux_path, &[]).await;
    assert!(
        again.contains("créées : 0 · mises à jour : 0 · inchangées : 3"),
        "{again}"
    );

    // SIRENE, with a BOM and commas: two establishments of one SIREN are one
    // business, a closed one is left out, a bad SIREN is reported.
    let sirene = [
        SIRENE,
        "400000006,00014,40000000600014,A,03,Menuiserie Fabre,,11069,16.23Z",
        "400000006,00022,40000000600022,A,03,Menuiserie Fabre - atelier,,11069,16.23Z",
        "400000014,00017,40000001400017,F,NN,Garage fermé,,11069,45.20A",
        "400000022,00019,40000002200019,A,12,,\"Boulangerie \"\"Au pain\"\", Narbonne\",11262,10.71C",
        "400000023,00019,40000002300019,A,12,Erreur de SIREN,,11262,10.71C",
    ]
    .join("\n");
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice(sirene.as_bytes());
    let sirene_path = dir.path().join("sirene.csv");
    std::fs::write(&sirene_path, &bytes).unwrap();
    let out = import(&platform, &sirene_path, &[]).await;
    assert!(out.contains("Format : SIRENE"), "{out}");
    assert!(out.contains("séparateur « , »"), "{out}");
    assert!(
        out.contains(
            "créées : 2 · mises à jour : 0 · inchangées : 1 · en erreur : 1 · écartées : 1"
        ),
        "{out}"
    );
    assert!(out.contains("reconnues par le SIREN : 1"), "{out}");
    assert!(
        out.contains(
            "ligne 6 · colonne « siren » · valeur « 400000023 » · refusée par le registre"
        ),
        "{out}"
    );
    let again = import(&platform, &sirene_path, &[]).await;
    assert!(
        again.contains("créées : 0 · mises à jour : 0 · inchangées : 3"),
        "{again}"
    );

    // Found by the register's search as any stakeholder.
    let found = platform
        .maillage(&["search", "--name", "fabre", "--purpose", "test import"])
        .await;
    let found = text(&found.stdout);
    assert!(found.contains("Menuiserie Fabre"), "{found}");
    assert!(found.contains("FABRE"), "{found}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_maillage_format_links_people_to_organisations() {
    let platform = Platform::start().await;
    let dir = tempfile::tempdir().unwrap();
    let csv = [
        "type;nom;prenom;commune;email;date_naissance;categories;mandat;mandat_territoire;mandat_debut;organisation_siren;role;role_debut;siren;type_organisation;taille;secteur;typologies;statut",
        "organisation;La Fabrique du Razès;;11206;;;;;;;;;;400000030;tiers_lieu;;;coworking|fablab;ouvert",
        "personne;Roux;Camille;11206;camille.roux@example.fr;;gestionnaire_tiers_lieu|elu;;;;400000030;gérante;2024-09-01;;;;;;",
        "personne;Roux;Camille;11206;Camille.Roux@Example.fr;1990-03-03;elu;conseiller_communautaire;200071926;2026-04-02;;;;;;;;;",
        "personne;Sans;Commune;;;;habitant;;;;;;;;;;;;",
        "association;?;;11206;;;;;;;;;;;;;;;",
        "personne;Vidal;Marc;11206;marc.vidal@example.fr;;habitant;;;;;;;;;;;;",
        "personne;Vidal;Marc;11206;marc.vidal@example.fr;;;maire;;2026-03-28;;;;;;;;;",
    ]
    .join("\n");
    let path = dir.path().join("contacts.csv");
    std::fs::write(&path, csv).unwrap();
    let out = import(&platform, &path, &["--format", "maillage"]).await;
    assert!(
        out.contains("créées : 3 · mises à jour : 1 · inchangées : 0 · en erreur : 3"),
        "{out}"
    );
    assert!(out.contains("reconnues par l'email : 1"), "{out}");
    // A mandate for someone registered as no élu: refused, said in French.
    assert!(
        out.contains("ligne 8 · colonne « mandat » · valeur « maire » · refusée par le registre : seul un élu peut détenir un mandat"),
        "{out}"
    );
    assert!(
        out.contains("ligne 5 · colonne « commune » · code commune manquant(e)"),
        "{out}"
    );
    assert!(
        out.contains("ligne 6 · colonne « type » · valeur « association »"),
        "{out}"
    );
    let again = import(&platform, &path, &[]).await;
    assert!(
        again.contains("créées : 0 · mises à jour : 0 · inchangées : 4"),
        "{again}"
    );
}
