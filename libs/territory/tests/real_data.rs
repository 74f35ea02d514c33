//! Tests of the territory reference against the real embedded COG 2026 data.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

use std::collections::HashSet;

use maillage_territory::{
    AliasKind, EpciKind, Territory, TerritoryError, TerritoryLevel, TerritoryRef, Zone, COG_YEAR,
    SOURCE_PACKAGE, SOURCE_VERSION,
};

fn t() -> &'static Territory {
    Territory::shared()
}

#[test]
fn counts_match_the_package() {
    let t = t();
    // communes.json holds 37,590 records, of which 34,969 are current communes.
    assert_eq!(t.communes().len(), 34_969);
    assert_eq!(t.epcis().len(), 1_255);
    // 101 départements + 8 COM; 18 régions + the same 8 COM.
    assert_eq!(t.departements().len(), 109);
    assert_eq!(t.regions().len(), 26);
    let non_com = |z: Zone| z != Zone::Com;
    assert_eq!(
        t.departements().iter().filter(|d| non_com(d.zone)).count(),
        101
    );
    assert_eq!(t.regions().iter().filter(|r| non_com(r.zone)).count(), 18);
    assert_eq!(
        t.communes().iter().filter(|c| c.zone == Zone::Com).count(),
        94
    );
    // Current communes + déléguées + associées + arrondissements municipaux = the 37,590 records.
    let parts = t
        .commune_aliases()
        .iter()
        .filter(|a| a.kind != AliasKind::FormerCode)
        .count();
    assert_eq!(t.communes().len() + parts, 37_590);
    let kinds = |k: EpciKind| t.epcis().iter().filter(|e| e.kind == k).count();
    assert_eq!(kinds(EpciKind::CommunauteDeCommunes), 989);
    assert_eq!(kinds(EpciKind::CommunauteDAgglomeration), 230);
    assert_eq!(kinds(EpciKind::CommunauteUrbaine), 14);
    assert_eq!(kinds(EpciKind::Metropole), 21);
    assert_eq!(kinds(EpciKind::MetropoleDeLyon), 1);
    assert_eq!(
        (SOURCE_PACKAGE, SOURCE_VERSION, COG_YEAR),
        ("@etalab/decoupage-administratif", "6.0.0", 2026)
    );
}

#[test]
fn the_data_file_names_its_source() {
    let data = include_str!("../data/cog2026.tsv");
    let header: Vec<&str> = data.lines().take_while(|l| l.starts_with('#')).collect();
    assert!(header
        .iter()
        .any(|l| l.contains("@etalab/decoupage-administratif@6.0.0")));
    assert!(header.iter().any(|l| l.contains("Licence Ouverte")));
}

#[test]
fn known_communes() {
    let t = t();
    let paris = t.commune("75056").expect("Paris");
    assert_eq!(paris.name, "Paris");
    assert_eq!(paris.departement, "75");
    assert_eq!(paris.region, "11");
    assert_eq!(paris.epci.as_deref(), Some("200054781"));
    assert_eq!(paris.postcodes.len(), 21);
    assert!(paris.postcodes.iter().any(|p| p == "75116"));
    assert!(paris.population.is_some_and(|p| p > 2_000_000));

    let ajaccio = t.commune("2A004").expect("Ajaccio");
    assert_eq!(ajaccio.name, "Ajaccio");
    assert_eq!(
        t.departement_of("2A004").map(|d| d.name.as_str()),
        Some("Corse-du-Sud")
    );
    assert_eq!(t.region_of("2A004").map(|r| r.name.as_str()), Some("Corse"));

    let saint_denis = t.commune("97411").expect("Saint-Denis");
    assert_eq!(saint_denis.name, "Saint-Denis");
    assert_eq!(saint_denis.zone, Zone::Drom);
    assert_eq!(
        t.region_of("97411").map(|r| r.name.as_str()),
        Some("La Réunion")
    );
    assert_eq!(saint_denis.postcodes, ["97400", "97417", "97490"]);

    let abergement = t.commune("01001").expect("L'Abergement-Clémenciat");
    assert_eq!(abergement.name, "L'Abergement-Clémenciat");
    assert_eq!(abergement.population, Some(860));
    assert_eq!(abergement.postcodes, ["01400"]);

    // TAAF district: no population, no postcode, no EPCI.
    let taaf = t.commune("98411").expect("TAAF district");
    assert_eq!(
        (taaf.population, taaf.postcodes.len(), taaf.epci.as_deref()),
        (None, 0, None)
    );
    assert_eq!(taaf.zone, Zone::Com);
}

#[test]
fn known_epci_and_members() {
    let t = t();
    let e = t.epci("200000172").expect("CC Faucigny - Glières");
    assert_eq!(e.name, "CC Faucigny - Glières");
    assert_eq!(e.kind, EpciKind::CommunauteDeCommunes);
    assert_eq!(e.members.len(), 7);
    assert!(e.members.iter().any(|m| m == "74042")); // Bonneville

    let lyon = t.epci("200046977").expect("Métropole de Lyon");
    assert_eq!(lyon.kind, EpciKind::MetropoleDeLyon);
    assert_eq!(lyon.members.len(), 58);
    assert_eq!(
        t.epci_of("69123").map(|e| e.siren.as_str()),
        Some("200046977")
    );

    let grand_paris = t.epci("200054781").expect("Métropole du Grand Paris");
    assert_eq!(grand_paris.kind, EpciKind::Metropole);
    assert_eq!(grand_paris.members.len(), 130);
    assert_eq!(t.communes_of_epci("200054781").map(|c| c.len()), Some(130));
}

#[test]
fn islands_without_epci() {
    let t = t();
    let without: Vec<&str> = t
        .communes()
        .iter()
        .filter(|c| c.epci.is_none() && c.zone != Zone::Com)
        .map(|c| c.code.as_str())
        .collect();
    assert_eq!(without, ["22016", "29083", "29155", "85113"]);
    assert_eq!(t.communes().iter().filter(|c| c.epci.is_none()).count(), 98);
    assert!(t.epci_of("29155").is_none());
    assert_eq!(t.enclosing("29155", TerritoryLevel::Epci), None);
}

#[test]
fn rollups_are_consistent() {
    let t = t();
    let mut in_some_epci = HashSet::new();
    for e in t.epcis() {
        let communes = t.communes_of_epci(&e.siren).expect("known EPCI");
        let codes: Vec<&str> = communes.iter().map(|c| c.code.as_str()).collect();
        assert_eq!(
            codes,
            e.members.iter().map(String::as_str).collect::<Vec<_>>()
        );
        assert!(!e.members.is_empty());
        let sum: u64 = communes
            .iter()
            .map(|c| u64::from(c.population.unwrap_or(0)))
            .sum();
        assert_eq!(e.population, sum, "population of EPCI {}", e.siren);
        for c in communes {
            assert_eq!(c.epci.as_deref(), Some(e.siren.as_str()));
            assert!(
                in_some_epci.insert(c.code.clone()),
                "{} in two EPCI",
                c.code
            );
        }
    }
    for c in t.communes() {
        if let Some(siren) = &c.epci {
            let e = t.epci(siren).expect("EPCI of a commune exists");
            assert!(e.members.contains(&c.code));
        } else {
            assert!(!in_some_epci.contains(&c.code));
        }
        let d = t.departement(&c.departement).expect("département exists");
        assert_eq!(d.region, c.region);
        assert_eq!(d.zone, c.zone);
    }

    // Département and région roll-ups partition the communes.
    let by_dep: usize = t
        .departements()
        .iter()
        .map(|d| t.communes_of_departement(&d.code).expect("known").len())
        .sum();
    let by_region: usize = t
        .regions()
        .iter()
        .map(|r| t.communes_of_region(&r.code).expect("known").len())
        .sum();
    assert_eq!(by_dep, t.communes().len());
    assert_eq!(by_region, t.communes().len());
    for r in t.regions() {
        let via_deps: usize = t
            .departements_of_region(&r.code)
            .expect("known")
            .iter()
            .map(|d| t.communes_of_departement(&d.code).expect("known").len())
            .sum();
        assert_eq!(
            via_deps,
            t.communes_of_region(&r.code).expect("known").len()
        );
    }

    // communes_in agrees with the per-level functions and with `contains`.
    let idf = TerritoryRef::region("11").expect("well formed");
    let communes = t.communes_in(&idf).expect("Île-de-France");
    assert_eq!(communes.len(), 1_266);
    assert!(communes.iter().all(|c| t.contains(&idf, &c.code)));
    assert!(!t.contains(&idf, "2A004"));
    let aude = TerritoryRef::departement("11").expect("well formed");
    assert_eq!(
        t.communes_in(&aude).expect("Aude").len(),
        t.communes_of_departement("11").expect("Aude").len()
    );
    assert!(t
        .communes_in(&aude)
        .expect("Aude")
        .iter()
        .all(|c| c.departement == "11"));
    let paris = TerritoryRef::commune("75056").expect("well formed");
    assert_eq!(t.communes_in(&paris).expect("Paris").len(), 1);
    let unknown_epci = TerritoryRef::epci("200000180").expect("well formed"); // valid Luhn, not an EPCI
    assert!(matches!(
        t.communes_in(&unknown_epci),
        Err(TerritoryError::UnknownCode {
            level: TerritoryLevel::Epci,
            ..
        })
    ));
}

#[test]
fn departement_and_region_codes_are_ambiguous() {
    let t = t();
    for code in ["11", "24", "93", "01", "04", "84", "975"] {
        let candidates = t.candidates(code);
        assert_eq!(
            candidates.iter().map(|c| c.level()).collect::<Vec<_>>(),
            [TerritoryLevel::Departement, TerritoryLevel::Region],
            "{code}"
        );
        match t.resolve(code) {
            Err(TerritoryError::AmbiguousCode {
                code: c,
                candidates: found,
            }) => {
                assert_eq!(c, code);
                assert_eq!(found, candidates);
            }
            other => panic!("{code}: expected ambiguity, got {other:?}"),
        }
    }
    let err = t.resolve("11").expect_err("ambiguous").to_string();
    assert!(
        err.contains("departement:11") && err.contains("region:11"),
        "{err}"
    );

    // An explicit level settles it.
    let aude = t.resolve("departement:11").expect("Aude");
    assert_eq!(t.name_of(&aude), Some("Aude"));
    let idf = t.resolve("region:11").expect("Île-de-France");
    assert_eq!(t.name_of(&idf), Some("Île-de-France"));
    assert_ne!(aude, idf);

    // Unambiguous bare codes resolve.
    assert_eq!(
        t.resolve("2A").expect("Corse-du-Sud").level(),
        TerritoryLevel::Departement
    );
    assert_eq!(
        t.resolve("974").expect("La Réunion").level(),
        TerritoryLevel::Departement
    );
    assert_eq!(
        t.resolve("75056").expect("Paris").level(),
        TerritoryLevel::Commune
    );
    assert_eq!(
        t.resolve(" 200054781 ").expect("MGP").level(),
        TerritoryLevel::Epci
    );
    // Région 05 does not exist (Mayotte is 06), so "05" is only Hautes-Alpes.
    assert_eq!(
        t.resolve("05").expect("Hautes-Alpes").level(),
        TerritoryLevel::Departement
    );
    assert!(matches!(
        t.resolve("04"),
        Err(TerritoryError::AmbiguousCode { .. })
    ));
}

#[test]
fn textual_form_requires_a_level() {
    let r: TerritoryRef = "commune:01001".parse().expect("parses");
    assert_eq!((r.level(), r.code()), (TerritoryLevel::Commune, "01001"));
    assert_eq!(r.to_string(), "commune:01001");
    for text in [
        "epci:200069193",
        "departement:11",
        "region:11",
        "departement:2A",
        "region:975",
    ] {
        let r: TerritoryRef = text.parse().expect(text);
        assert_eq!(r.to_string(), text);
    }
    let accented: TerritoryRef = "Département:11".parse().expect("accented level");
    assert_eq!(accented.to_string(), "departement:11");
    assert!(matches!(
        "11".parse::<TerritoryRef>(),
        Err(TerritoryError::MissingLevel { .. })
    ));
    assert!(matches!(
        "canton:11".parse::<TerritoryRef>(),
        Err(TerritoryError::UnknownLevel { .. })
    ));
    assert!(matches!(
        "region:2A".parse::<TerritoryRef>(),
        Err(TerritoryError::MalformedCode {
            level: TerritoryLevel::Region,
            ..
        })
    ));
    assert!(matches!(
        "epci:200069194".parse::<TerritoryRef>(),
        Err(TerritoryError::MalformedCode {
            level: TerritoryLevel::Epci,
            ..
        })
    ));
}

#[test]
fn malformed_unknown_and_non_current_communes_differ() {
    let t = t();
    for bad in ["7505", "750560", "2C004", "2a004", "ABCDE", "", " 75056"] {
        match t.validate_commune(bad) {
            Err(TerritoryError::MalformedCode {
                level: TerritoryLevel::Commune,
                code,
            }) => assert_eq!(code, bad),
            other => panic!("{bad:?}: expected malformed, got {other:?}"),
        }
    }
    let err = t.validate_commune("7505").expect_err("malformed");
    assert!(err.to_string().contains("\"7505\""), "{err}");

    for unknown in ["99999", "75000", "2A999"] {
        match t.validate_commune(unknown) {
            Err(TerritoryError::UnknownCode {
                level: TerritoryLevel::Commune,
                code,
            }) => assert_eq!(code, unknown),
            other => panic!("{unknown}: expected unknown, got {other:?}"),
        }
    }
    let err = t.validate_commune("99999").expect_err("unknown");
    assert!(err.to_string().contains("\"99999\""), "{err}");

    assert_eq!(t.validate_commune("75056").expect("Paris").name, "Paris");

    // Paris 1er arrondissement is not a commune; it says which commune it belongs to.
    assert_eq!(
        t.validate_commune("75101"),
        Err(TerritoryError::NotCurrentCommune {
            code: "75101".into(),
            kind: AliasKind::ArrondissementMunicipal,
            commune: "75056".into()
        })
    );
    let former = t.commune_alias("01003").expect("former code");
    assert_eq!(former.kind, AliasKind::FormerCode);
    assert!(t.commune(&former.commune).is_some());
    assert!(matches!(
        t.resolve("01003"),
        Err(TerritoryError::NotCurrentCommune { .. })
    ));
    assert!(matches!(
        t.resolve("nope"),
        Err(TerritoryError::NoSuchTerritory { .. })
    ));

    // Every alias points at a current commune; no non-delegated alias shadows one.
    for a in t.commune_aliases() {
        assert!(t.commune(&a.commune).is_some(), "{}", a.code);
        if t.commune(&a.code).is_some() {
            assert_eq!(
                (a.kind, a.commune.as_str()),
                (AliasKind::CommuneDeleguee, a.code.as_str())
            );
        }
    }

    assert!(matches!(
        t.validate_code(TerritoryLevel::Departement, "20"),
        Err(TerritoryError::UnknownCode {
            level: TerritoryLevel::Departement,
            ..
        })
    ));
    assert!(matches!(
        t.validate_code(TerritoryLevel::Region, "1"),
        Err(TerritoryError::MalformedCode {
            level: TerritoryLevel::Region,
            ..
        })
    ));
    assert!(t.validate_code(TerritoryLevel::Departement, "2B").is_ok());
}

#[test]
fn names() {
    let t = t();
    let closest = t.closest_names("besancon", 3);
    assert_eq!(closest[0].name, "Besançon");
    assert_eq!(closest[0].distance, 0);
    assert_eq!(
        closest[0].territory,
        TerritoryRef::commune("25056").expect("well formed")
    );
    assert_eq!(closest.len(), 3);
    assert!(closest.windows(2).all(|w| w[0].distance <= w[1].distance));

    let typo = t.closest_names("Montpelier", 1);
    assert_eq!(typo[0].name, "Montpellier");
    assert_eq!(typo[0].distance, 1);

    // A query matching part of a long EPCI name.
    let grand_paris = t.closest_names("grand paris", 3);
    assert_eq!(grand_paris[0].territory.to_string(), "epci:200054781");
    assert_eq!(
        grand_paris[0].distance,
        maillage_territory::PART_MATCH_PENALTY
    );

    let regions = t.closest_names("ile de france", 1);
    assert_eq!(regions[0].territory.to_string(), "region:11");

    let homonyms = t.search_by_name("saint-denis");
    let codes: Vec<String> = homonyms.iter().map(|m| m.territory.to_string()).collect();
    assert!(codes.contains(&"commune:93066".to_string()), "{codes:?}");
    assert!(codes.contains(&"commune:97411".to_string()), "{codes:?}");
    assert!(homonyms
        .iter()
        .all(|m| m.distance == 0 && m.name == "Saint-Denis"));

    let aude = t.search_by_name("AUDE");
    assert_eq!(aude.len(), 1);
    assert_eq!(aude[0].territory.to_string(), "departement:11");

    assert!(t.search_by_name("Atlantis").is_empty());
    assert!(t.closest_names("x", 0).is_empty());

    // A query of any length costs no more than its first MAX_QUERY_CHARS characters.
    let long = format!("besancon{}", "x".repeat(1 << 20));
    let head: String = long
        .chars()
        .take(maillage_territory::MAX_QUERY_CHARS)
        .collect();
    assert_eq!(t.closest_names(&long, 3), t.closest_names(&head, 3));

    let prefix = t.search_by_prefix("besan", 5);
    assert_eq!(prefix[0].name, "Besançon");
}

#[test]
fn corrupt_data_is_refused() {
    let data = include_str!("../data/cog2026.tsv");
    assert!(matches!(
        Territory::parse(""),
        Err(TerritoryError::Data { .. })
    ));
    let without_paris: String = data
        .lines()
        .filter(|l| !l.starts_with("C\t75056\t"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(matches!(
        Territory::parse(&without_paris),
        Err(TerritoryError::Data { .. })
    ));
    let bad_dep = data.replace(
        "C\t01001\tL'Abergement-Clémenciat\t01\t",
        "C\t01001\tL'Abergement-Clémenciat\t00\t",
    );
    assert!(matches!(
        Territory::parse(&bad_dep),
        Err(TerritoryError::Data { .. })
    ));
    let parsed = Territory::parse(data).expect("the committed file parses");
    assert_eq!(parsed.communes().len(), t().communes().len());
}
