//! Fictional names for the demo's cast, drawn from the seed: French given and family
//! names, and the names of businesses and associations built from them.

use rand::seq::SliceRandom;
use rand::Rng;

const GIVEN: &[&str] = &[
    "Anne",
    "Bernard",
    "Camille",
    "Christophe",
    "Claire",
    "Damien",
    "Delphine",
    "Élodie",
    "Emmanuel",
    "Fabienne",
    "François",
    "Gaëlle",
    "Gilles",
    "Hélène",
    "Hugo",
    "Isabelle",
    "Jacques",
    "Jean-Marc",
    "Julie",
    "Karine",
    "Laurent",
    "Léa",
    "Luc",
    "Manon",
    "Marc",
    "Marie",
    "Mathieu",
    "Nathalie",
    "Nicolas",
    "Odile",
    "Olivier",
    "Pascale",
    "Patrick",
    "Philippe",
    "Quentin",
    "Sandrine",
    "Sébastien",
    "Sophie",
    "Stéphane",
    "Sylvie",
    "Thierry",
    "Valérie",
    "Vincent",
    "Yannick",
    "Zoé",
];

const FAMILY: &[&str] = &[
    "Aubert",
    "Barreau",
    "Bellanger",
    "Berthelot",
    "Bodin",
    "Bourgeois",
    "Chauvin",
    "Chevalier",
    "Delaunay",
    "Deschamps",
    "Doucet",
    "Dufour",
    "Fleury",
    "Fontaine",
    "Gaudin",
    "Gauthier",
    "Guérin",
    "Hamon",
    "Hervé",
    "Jolivet",
    "Lambert",
    "Lebrun",
    "Leclerc",
    "Lefort",
    "Legrand",
    "Marchand",
    "Martineau",
    "Mercier",
    "Moreau",
    "Noël",
    "Pasquier",
    "Perrin",
    "Poirier",
    "Renard",
    "Rivière",
    "Rousseau",
    "Roussel",
    "Tessier",
    "Thibault",
    "Vallée",
    "Vasseur",
    "Verdier",
];

/// Trades of the territory's TPE/PME, with their sector label.
const TRADES: &[(&str, &str)] = &[
    ("Menuiserie", "menuiserie"),
    ("Boulangerie", "boulangerie-pâtisserie"),
    ("Garage", "réparation automobile"),
    ("Maçonnerie", "bâtiment"),
    ("Électricité", "électricité générale"),
    ("Imprimerie", "imprimerie"),
    ("Ferme", "maraîchage"),
    ("Domaine", "viticulture"),
    ("Atelier", "ébénisterie"),
    ("Studio", "graphisme et web"),
    ("Cabinet", "expertise comptable"),
    ("Transports", "transport de marchandises"),
    ("Tannerie", "cuir et maroquinerie"),
    ("Épicerie", "commerce de proximité"),
];

/// Names of associations, `{}` standing for a commune.
const ASSOCIATIONS: &[&str] = &[
    "Comité des fêtes de {}",
    "Familles rurales de {}",
    "Club informatique de {}",
    "Les Jardins partagés de {}",
    "Repair café de {}",
    "Théâtre en Gâtine ({})",
    "Association des parents d'élèves de {}",
    "Les Amis du patrimoine de {}",
];

/// A fictional person's given and family names.
pub fn person(rng: &mut impl Rng) -> (String, String) {
    let given = GIVEN.choose(rng).copied().unwrap_or("Camille");
    let family = FAMILY.choose(rng).copied().unwrap_or("Martin");
    (given.to_owned(), family.to_owned())
}

/// An email address for a person (a fictional domain).
pub fn email(given: &str, family: &str, domain: &str) -> String {
    let clean = |text: &str| -> String {
        text.chars()
            .filter_map(|c| match c {
                'é' | 'è' | 'ê' | 'ë' | 'É' => Some('e'),
                'à' | 'â' => Some('a'),
                'ï' | 'î' => Some('i'),
                'ô' => Some('o'),
                'ç' => Some('c'),
                'û' | 'ù' => Some('u'),
                '-' => Some('-'),
                c if c.is_ascii_alphabetic() => Some(c.to_ascii_lowercase()),
                _ => None,
            })
            .collect()
    };
    format!("{}.{}@{domain}", clean(given), clean(family))
}

/// A French mobile number, `06 XX XX XX XX`.
pub fn phone(rng: &mut impl Rng) -> String {
    let groups: Vec<String> = (0..4)
        .map(|_| format!("{:02}", rng.gen_range(0..100)))
        .collect();
    format!("06 {}", groups.join(" "))
}

/// A business: its name (a trade and a family name) and sector.
pub fn business(rng: &mut impl Rng) -> (String, String) {
    let (trade, sector) = TRADES
        .choose(rng)
        .copied()
        .unwrap_or(("Atelier", "artisanat"));
    let family = FAMILY.choose(rng).copied().unwrap_or("Martin");
    (format!("{trade} {family}"), sector.to_owned())
}

/// The name of the `index`-th association, located in `commune`.
pub fn association(index: usize, commune: &str) -> String {
    ASSOCIATIONS[index % ASSOCIATIONS.len()].replace("{}", commune)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn names_depend_on_the_seed_only() {
        let mut a = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let mut b = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        assert_eq!(person(&mut a), person(&mut b));
        assert_eq!(business(&mut a), business(&mut b));
        assert_eq!(
            email("Élodie", "Guérin", "exemple.fr"),
            "elodie.guerin@exemple.fr"
        );
    }
}
