//! The French catalogue of the handlers' own refusal phrases: the wording
//! a person reads for an INVALID_ARGUMENT or FAILED_PRECONDITION a handler
//! raised in English without giving its French (see
//! [`ServiceError::with_french`](crate::ServiceError::with_french)).
//!
//! Like a gettext catalogue, it is keyed by the English phrase: an exact
//! phrase, or a phrase with a number or a name in it (`at most 100`,
//! `unknown theme 12`). The domain refusals do not come here (each service
//! words them in its `grpc/french.rs`, with an exhaustive match), nor the
//! kit's own rules (`validate.rs` words each one); a phrase missing here
//! reads `Valeur refusée : <English>.`, so a new one is added with its
//! handler: the test `every_phrase_the_services_raise_is_worded` reads the
//! workspace's sources and fails on a phrase raised without its French.

/// The French of an English refusal phrase, if the catalogue has it.
pub(crate) fn phrase(english: &str) -> Option<String> {
    if let Some(french) = exact(english) {
        return Some(french.to_owned());
    }
    patterned(english)
}

/// The French of a kind of thing a NOT_FOUND or ALREADY_EXISTS names
/// (`stakeholder`, `survey`...), or the English one when the catalogue lacks it.
pub(crate) fn noun(english: &str) -> &str {
    match english {
        "stakeholder" => "acteur",
        "action" => "action",
        "survey" => "enquête",
        "survey with slug" => "enquête à l'adresse",
        "interview" => "entretien",
        "diagnostic" => "diagnostic",
        "lesson" => "retour d'expérience",
        "foresight outputs of action" => "prospective de l'action",
        "officer designation of" => "désignation de responsable pour",
        "axis named" => "axe nommé",
        "mission named" => "mission nommée",
        "code labelled" => "code au libellé",
        "survey response for respondent token" => "réponse pour ce lien d'enquête",
        "segment" => "segment",
        "interaction" => "interaction",
        "follow-up" => "relance",
        "mandate" => "mandat",
        "affiliation" => "rattachement",
        "organisation link" => "lien entre organisations",
        "token" => "jeton",
        "axis" => "axe",
        "objective" => "objectif",
        "mission" => "mission",
        "deliverable" => "livrable",
        "code" => "code",
        "consortium" => "consortium",
        "meeting" => "réunion",
        "concertation" => "réunion de concertation",
        "commitment" => "engagement",
        "erasure" => "effacement",
        "audience export" => "export de public",
        other => other,
    }
}

/// Phrases without a variable part.
fn exact(english: &str) -> Option<&'static str> {
    Some(match english {
        "is required" | "must be set" => "Ce champ est obligatoire.",
        "appears twice" | "repeated participant" => "Cette valeur est donnée deux fois.",
        "is in the future" => "Cette date est dans le futur : vérifiez-la.",
        "more than 5 minutes in the future" => {
            "Cette date est dans le futur (de plus de 5 minutes) : vérifiez-la."
        }
        "must be after starts_at" => "La fin doit être après le début.",
        "is before from" => "La fin de la période est avant son début.",
        "the end is before the start" => "La fin est avant le début : vérifiez les dates.",
        "must not be empty" => "Ce champ ne doit pas être vide.",
        "at least one is required" => "Il en faut au moins un.",
        "a correction must set at least one field" => {
            "Une correction doit modifier au moins un champ."
        }
        "at least one participant is needed" => "Il faut au moins un participant.",
        "an organisation cannot be linked to itself" => {
            "Une organisation ne peut pas être liée à elle-même."
        }
        "a principal name: 1 to 128 of A-Z a-z 0-9 . _ @ -" => {
            "Un nom de compte : de 1 à 128 caractères parmi A-Z a-z 0-9 . _ @ -."
        }
        "must be commune, epci, departement or region"
        | "must be commune, EPCI, département or région" => {
            "Choisissez un niveau : commune, EPCI, département ou région."
        }
        "is not a valid email address" => "Cette adresse électronique n'est pas valable.",
        "must be YYYY-MM-DD or YYYY" => "Une date AAAA-MM-JJ, ou une année AAAA.",
        "the year must be from 1900 to 2100" => "L'année doit être entre 1900 et 2100.",
        "no such month" => "Ce mois n'existe pas.",
        "no such day in that month" => "Ce jour n'existe pas dans ce mois.",
        "is not a French (0X XX XX XX XX) or E.164 (+CCNNN…) phone number" => {
            "Ce numéro n'est ni un numéro français (0X XX XX XX XX) ni un numéro \
             international (+CCNNN…)."
        }
        "a SIREN is 9 digits" => "Un SIREN compte 9 chiffres.",
        "the SIREN's check digit is wrong (Luhn)" => {
            "Ce SIREN est erroné (sa clé de contrôle ne correspond pas) : vérifiez-le."
        }
        "an audience is not looked up by name" => "Un public ne se cherche pas par nom.",
        "at least one kind is needed" => "Choisissez au moins un type.",
        "at least one typology is needed" => "Choisissez au moins une typologie.",
        "from 1 to 5" => "De 1 à 5.",
        "a segment cannot hold a name query: it would be recorded in clear" => {
            "Un segment ne peut pas retenir une recherche par nom : elle serait \
             enregistrée en clair."
        }
        "give a new owner or a new due_at" => {
            "Donnez un nouveau responsable ou une nouvelle échéance."
        }
        "cannot be combined with person_kinds: a stakeholder is a person or an organisation" => {
            "Ne se combine pas avec les types de personne : un acteur est une personne \
             ou une organisation."
        }
        "only persons have kinds" => "Seules les personnes ont un type de personne.",
        "only organisations have a type" => "Seules les organisations ont un type d'organisation.",
        "cannot be combined with last_contact_before or last_contact_after" => {
            "Ne se combine pas avec une période de dernier contact."
        }
        "must hold a letter or a digit" => "Doit contenir une lettre ou un chiffre.",
        "at least one territory is required" | "a territory is required" => {
            "Il faut au moins un territoire."
        }
        "must be a body kind" => "Choisissez un type d'instance.",
        "at least one college sits in a body" => "Au moins un collège siège dans une instance.",
        "must be simple, absolute or two-thirds" => {
            "Choisissez une majorité : simple, absolue ou des deux tiers."
        }
        "must be 1 to 40 characters of a-z, 0-9 and '-', not starting with '-'" => {
            "De 1 à 40 caractères parmi a-z, 0-9 et « - », sans commencer par « - »."
        }
        "is required unless the meeting is online" => {
            "Obligatoire, sauf pour une réunion en ligne."
        }
        "name members present or proxies" => "Nommez des membres présents ou des pouvoirs.",
        "a member cannot hold its own proxy" => "Un membre ne peut pas détenir son propre pouvoir.",
        "agenda items are numbered from 1" => {
            "Les points de l'ordre du jour sont numérotés à partir de 1."
        }
        "must be for, against or abstain" => "Choisissez : pour, contre ou abstention.",
        "must be a URI (scheme:...) without spaces" => {
            "Une adresse (URI, « schéma:… ») sans espace."
        }
        "give a stakeholder_id or a territory" => "Donnez un acteur ou un territoire.",
        "CSV or JSON" => "CSV ou JSON.",
        "not a SurveyStatus" | "not an ActionStatus value" => "Statut inconnu.",
        "one of action, interview, diagnostic" => "Une action, un entretien ou un diagnostic.",
        "not a token this service gave" => {
            "Ce jeton de page ne vient pas de ce service : recommencez la recherche."
        }
        "a commune or online is required" => "Choisissez une commune, ou « en ligne ».",
        "give attendees or head counts (or both)" => {
            "Donnez les participants ou les effectifs (ou les deux)."
        }
        "appears twice in the campaign" => "Cette action figure deux fois dans la campagne.",
        "more answers than a survey has questions" => {
            "Plus de réponses que l'enquête n'a de questions."
        }
        "an action, interview or diagnostic is required" => {
            "Il faut une action, un entretien ou un diagnostic."
        }
        "at least one theme is required" => "Choisissez au moins un thème.",
        "appears twice in the ranking" => "Cette option figure deux fois dans le classement.",
        "not a foresight workshop" => "Ce n'est pas un atelier prospectif.",
        "out of range" => "Valeur hors des limites.",
        "a UUID is a survey id, not a slug" => {
            "Un UUID est un identifiant d'enquête, pas une adresse courte."
        }
        "filters actions: not with the measure INTERVIEWS" => {
            "Ce filtre porte sur les actions : pas avec la mesure des entretiens."
        }
        "the stakeholder is not a person" => "Cet acteur n'est pas une personne.",
        "the person was erased" => "Les données de cette personne ont été effacées.",
        "the notes' subject was erased" => "La personne de ces notes a été effacée.",
        "the kind of organisation is required" => "Le type d'organisation est obligatoire.",
        "must be a UUID" => "Un identifiant UUID est attendu ici.",
        "must be printable ASCII" => "Seuls les caractères ASCII imprimables sont acceptés.",
        "no such stakeholder" => "Cet acteur n'est pas dans le registre.",
        _ => return None,
    })
}

/// Phrases with a number or a name in them.
fn patterned(english: &str) -> Option<String> {
    if let Some(rest) = english.strip_prefix("at most ") {
        let (number, unit) = rest.split_once(' ').unwrap_or((rest, ""));
        if number.parse::<u64>().is_ok() {
            let unit = match unit {
                "" => "",
                "items" | "values" => " éléments",
                "participants" => " participants",
                "territories" => " territoires",
                "words" => " mots",
                "actions" => " actions",
                "members and proxies" => " membres et pouvoirs",
                _ => return None,
            };
            return Some(format!("{number}{unit} au plus."));
        }
    }
    if let Some(value) = english
        .strip_prefix("unknown theme ")
        .or_else(|| english.strip_prefix("unknown value "))
    {
        return Some(format!(
            "Valeur inconnue ({value}) : choisissez-en une de la liste."
        ));
    }
    if let Some(rest) = english.strip_suffix(" was erased") {
        let whose = match rest.strip_prefix("participant ") {
            Some(id) => format!("du participant {id}"),
            None => format!("de {rest}"),
        };
        return Some(format!(
            "Les données {whose} ont été effacées : plus rien de nouveau ne peut les citer."
        ));
    }
    if let Some(what) = english.strip_suffix(" is archived") {
        return Some(format!("Archivé ({what}) : il ne peut plus changer."));
    }
    if let Some(follow_up) = english
        .strip_prefix("follow-up ")
        .and_then(|rest| rest.strip_suffix(" is already done"))
    {
        return Some(format!("La relance {follow_up} est déjà faite."));
    }
    if let Some(id) = english
        .strip_prefix("no such survey ")
        .or_else(|| english.strip_prefix("no such action "))
    {
        return Some(format!("Introuvable : {id}."));
    }
    if let Some((what, id)) = english
        .strip_prefix("no such ")
        .and_then(|rest| rest.rsplit_once(' '))
    {
        return Some(format!("Introuvable : {} {id}.", noun(what)));
    }
    if let Some(action) = english
        .strip_prefix("action ")
        .and_then(|rest| rest.strip_suffix(" was cancelled and will never be held"))
    {
        return Some(format!(
            "L'action {action} est annulée : elle n'aura jamais lieu."
        ));
    }
    if let Some(action) = english
        .strip_prefix("action ")
        .and_then(|rest| rest.strip_suffix(" is not an awareness action (ACTION_KIND_AWARENESS_*)"))
    {
        return Some(format!(
            "L'action {action} n'est pas une action de sensibilisation : la campagne \
             d'information n'en compte que de telles."
        ));
    }
    if let Some(range) = english.strip_prefix("a year from ") {
        return Some(format!("Une année de {}.", range.replace(" to ", " à ")));
    }
    if let Some(rest) = english.strip_prefix("must be 0 to 100, got ") {
        return Some(format!("Entre 0 et 100 ({rest} donné)."));
    }
    if let Some((bound, got)) = english
        .strip_prefix("must be from 1 to ")
        .and_then(|rest| rest.split_once(", got "))
    {
        return Some(format!("De 1 à {bound} ({got} donné)."));
    }
    if let Some(bound) = english
        .strip_prefix("must have 1 to ")
        .and_then(|rest| rest.strip_suffix(" items"))
    {
        return Some(format!("De 1 à {bound} éléments."));
    }
    if let Some(bound) = english
        .strip_prefix("from 1 to ")
        .and_then(|rest| rest.strip_suffix(" rows per request"))
    {
        return Some(format!("De 1 à {bound} lignes par demande."));
    }
    if let Some(got) = english.strip_prefix("must be a fraction in (0, 1], got ") {
        return Some(format!(
            "Une fraction entre 0 (exclu) et 1 (inclus) ({got} donné)."
        ));
    }
    if let Some(college) = english
        .strip_prefix("college ")
        .and_then(|rest| rest.strip_suffix(" is listed twice"))
    {
        return Some(format!("Le collège « {college} » figure deux fois."));
    }
    if let Some(level) = english.strip_prefix("the authority of this office is at level ") {
        let level = level.trim_start_matches("TERRITORY_LEVEL_").to_lowercase();
        return Some(format!(
            "La collectivité de ce mandat est de niveau {level} : choisissez-en une de ce niveau."
        ));
    }
    if let Some(bounds) = english.strip_suffix(" characters of a-z, 0-9 and '-'") {
        return Some(format!(
            "De {} caractères parmi a-z, 0-9 et « - ».",
            bounds.replace(" to ", " à ")
        ));
    }
    if let Some(max) = english
        .strip_prefix("at most ")
        .and_then(|rest| rest.strip_suffix(" printable ASCII characters"))
    {
        return Some(format!("{max} caractères ASCII imprimables au plus."));
    }
    if let Some((given, max)) = english.split_once(" bytes, a territory code has at most ") {
        return Some(format!(
            "Un code de territoire compte {max} octets au plus ({given} donnés)."
        ));
    }
    if english.starts_with("must be 1 to ") && english.ends_with("(or every_commune)") {
        let bound = english
            .trim_start_matches("must be 1 to ")
            .trim_end_matches(" (or every_commune)");
        return Some(format!("De 1 à {bound} (ou « toutes les communes »)."));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phrases_are_worded() {
        for english in [
            "is required",
            "must be after starts_at",
            "is in the future",
            "the SIREN's check digit is wrong (Luhn)",
            "at most 100",
            "at most 20 participants",
            "unknown theme 12",
            "participant 0190 was erased",
            "must be 1 to 500 (or every_commune)",
            "no such interview 0190",
            "must be from 1 to 1000, got 0",
            "college elus is listed twice",
            "3 to 60 characters of a-z, 0-9 and '-'",
        ] {
            let french = phrase(english).unwrap_or_else(|| panic!("{english}"));
            assert!(
                !french.is_empty() && french.ends_with('.'),
                "{english}: {french}"
            );
        }
        assert_eq!(phrase("at most 3 bananas"), None);
        assert_eq!(
            phrase("4000 bytes, a territory code has at most 64").as_deref(),
            Some("Un code de territoire compte 64 octets au plus (4000 donnés).")
        );
        assert_eq!(phrase("something new"), None);
        assert_eq!(noun("stakeholder"), "acteur");
        assert_eq!(noun("gadget"), "gadget");
    }

    /// Every phrase a handler of the workspace raises as an INVALID_ARGUMENT
    /// or a FAILED_PRECONDITION without its own French (`.with_french`) is
    /// in the catalogue, with `7` for each `{…}` of a `format!`: read from
    /// the sources, so that a phrase added without its French fails here
    /// rather than reading "Valeur refusée : <English>." in the console.
    #[test]
    fn every_phrase_the_services_raise_is_worded() {
        let workspace = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut unworded = Vec::new();
        let mut seen = 0;
        for tree in ["libs", "services"] {
            for file in sources(&workspace.join(tree)) {
                let text = std::fs::read_to_string(&file).expect("a source file");
                let code = text.split("#[cfg(test)]").next().unwrap_or_default();
                for (phrase_raised, line) in raised_phrases(code) {
                    seen += 1;
                    if phrase(&phrase_raised).is_none() {
                        unworded.push(format!("{}:{line}: {phrase_raised}", file.display()));
                    }
                }
            }
        }
        assert!(seen > 50, "only {seen} phrases found: the scan is broken");
        assert!(unworded.is_empty(), "not worded:\n{}", unworded.join("\n"));
    }

    /// The `.rs` files under each `src` directory of `root`.
    fn sources(root: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut found = Vec::new();
        let mut pending = vec![root.to_path_buf()];
        while let Some(directory) = pending.pop() {
            for entry in std::fs::read_dir(&directory).expect("a directory") {
                let path = entry.expect("an entry").path();
                let name = path
                    .file_name()
                    .and_then(|name| name.to_str())
                    .unwrap_or("");
                if path.is_dir() && !matches!(name, "tests" | "examples" | "benches" | "target") {
                    pending.push(path);
                } else if name.ends_with(".rs")
                    && path.components().any(|part| part.as_os_str() == "src")
                {
                    found.push(path);
                }
            }
        }
        found
    }

    /// The phrases raised in `code` without a French of their own, with
    /// their line: the phrase argument of an `invalid_argument(field,
    /// phrase)` or a `failed_precondition(phrase)` (after its `field: `
    /// prefix, as `ServiceError::french` reads it), when it is a literal or
    /// a `format!` of one.
    fn raised_phrases(code: &str) -> Vec<(String, usize)> {
        let mut phrases = Vec::new();
        for (call, phrase_argument) in [
            ("ServiceError::invalid_argument(", 1),
            ("ServiceError::failed_precondition(", 0),
        ] {
            for (start, _) in code.match_indices(call) {
                let (arguments, rest) = split_call(&code[start + call.len()..]);
                if rest.trim_start().starts_with(".with_french") {
                    continue;
                }
                let Some(literal) = arguments
                    .get(phrase_argument)
                    .and_then(|argument| string_literals(argument).into_iter().next())
                else {
                    continue;
                };
                let raised = placeholders_filled(&literal);
                let raised = match raised.split_once(": ") {
                    Some((_, what)) if phrase_argument == 0 => what.to_owned(),
                    _ => raised,
                };
                phrases.push((raised, code[..start].lines().count()));
            }
        }
        phrases
    }

    /// The top-level arguments of a call whose parenthesis `text` follows,
    /// and what follows its closing parenthesis.
    fn split_call(text: &str) -> (Vec<&str>, &str) {
        let mut arguments = Vec::new();
        let mut depth = 1;
        let mut in_string = false;
        let mut escaped = false;
        let mut argument_start = 0;
        for (index, character) in text.char_indices() {
            match (in_string, escaped, character) {
                (true, true, _) => escaped = false,
                (true, false, '\\') => escaped = true,
                (_, _, '"') => in_string = !in_string,
                (false, _, '(' | '[' | '{') => depth += 1,
                (false, _, ',') if depth == 1 => {
                    arguments.push(&text[argument_start..index]);
                    argument_start = index + 1;
                }
                (false, _, ')' | ']' | '}') => {
                    depth -= 1;
                    if depth == 0 {
                        arguments.push(&text[argument_start..index]);
                        return (arguments, &text[index + 1..]);
                    }
                }
                _ => {}
            }
        }
        (arguments, "")
    }

    /// The contents of the string literals in `text`, in order.
    fn string_literals(text: &str) -> Vec<String> {
        text.split('"')
            .skip(1)
            .step_by(2)
            .map(|literal| {
                literal
                    .replace("\\\n", "")
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    }

    /// `literal` with `7` for each `{…}`.
    fn placeholders_filled(literal: &str) -> String {
        let mut filled = String::new();
        let mut rest = literal;
        while let Some((before, after)) = rest.split_once('{') {
            filled.push_str(before);
            filled.push('7');
            rest = after.split_once('}').map_or("", |(_, after)| after);
        }
        filled.push_str(rest);
        filled
    }
}
