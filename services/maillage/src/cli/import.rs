//! `maillage import stakeholders FILE`: a contact list (Maillage CSV,
//! Répertoire national des élus, SIRENE establishments) read by
//! [`crate::import`], sent to the stakeholders service's
//! `ImportStakeholders` in batches, each row decided by the service (created,
//! updated, unchanged, refused). Prints, in French, what was done (or, with
//! `--dry-run`, what would be), each refused line with its column, value and
//! why, and a summary; a progress bar on a terminal.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use maillage_proto::v1 as pb;
use maillage_proto::v1::stakeholders_client::StakeholdersClient;
use tonic::Code;

use super::client::{explain, Authed, Connection, SeenPositions};
use crate::import::{self, Format, LineError, Parsed, ParsedRow};

/// What `maillage import` imports.
#[derive(Debug, clap::Subcommand)]
pub enum ImportCommand {
    /// Importe une liste de contacts dans le registre (personnes, élus,
    /// organisations) : format Maillage, Répertoire national des élus ou
    /// SIRENE. Une ligne déjà importée, ou qui n'apporte rien, ne change rien.
    Stakeholders {
        /// Where the platform is and the token to use.
        #[command(flatten)]
        connection: Connection,
        /// The file, its format, the territory kept and the dry run.
        #[command(flatten)]
        args: ImportArgs,
    },
}

/// Options of `maillage import stakeholders`.
#[derive(Debug, Clone, clap::Args)]
pub struct ImportArgs {
    /// Le fichier CSV (UTF-8 ou Windows-1252, séparateur « ; » ou « , »).
    pub file: PathBuf,
    /// Le format du fichier (auto : reconnu d'après l'en-tête).
    #[arg(long, value_enum, default_value_t = Format::Auto)]
    pub format: Format,
    /// Ne garder que les communes de ce territoire (RNE, SIRENE) :
    /// commune:11069, epci:243700499, departement:37, region:24, ou un nom.
    #[arg(long)]
    pub territory: Option<String>,
    /// Dire ce qui serait créé, mis à jour ou laissé, sans rien écrire.
    #[arg(long)]
    pub dry_run: bool,
    /// Lignes par requête (1 à 1 000).
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub batch_size: u32,
}

/// Runs `maillage import stakeholders`.
pub async fn run(command: ImportCommand) -> anyhow::Result<()> {
    let ImportCommand::Stakeholders { connection, args } = command;
    let bytes = std::fs::read(&args.file)
        .with_context(|| format!("impossible de lire {}", args.file.display()))?;
    let territory = args
        .territory
        .as_deref()
        .map(super::territory::resolve)
        .transpose()?;
    let parsed = import::parse(&bytes, args.format, territory.as_ref())?;
    let (channel, seen) = connection.connect_session().await?;
    let progress = super::progress::bar(
        Some(parsed.rows.len() as u64),
        "{bar:40} {pos}/{len} lignes  {per_sec}  reste {eta}",
    );
    let results = send(
        channel,
        &seen,
        &parsed,
        args.dry_run,
        args.batch_size as usize,
        |sent| progress.inc(sent as u64),
    )
    .await?;
    progress.finish_and_clear();
    let territory_label = territory.as_ref().map(|found| {
        let name = maillage_territory::Territory::shared()
            .name_of(found)
            .unwrap_or_default();
        format!("{name} ({found})")
    });
    let text = render(
        &args.file.display().to_string(),
        &parsed,
        &results,
        args.dry_run,
        territory_label.as_deref(),
    );
    super::output::write(None, text.as_bytes())
}

/// Sends `parsed`'s rows in batches of `batch_size` over `channel` (noting
/// the positions reached in `seen`), calling `sent` after each batch with its
/// size; returns one result per row, in order. A batch the service cannot
/// take yet (UNAVAILABLE: its index catching up) is sent again, with the
/// same request id.
pub async fn send(
    channel: Authed,
    seen: &SeenPositions,
    parsed: &Parsed,
    dry_run: bool,
    batch_size: usize,
    mut sent: impl FnMut(usize),
) -> anyhow::Result<Vec<pb::ImportRowResult>> {
    let mut client = StakeholdersClient::new(channel)
        .max_decoding_message_size(64 << 20)
        .max_encoding_message_size(64 << 20);
    let source = parsed.format.unwrap_or(Format::Maillage).source();
    let import_id = uuid::Uuid::now_v7();
    let mut results = Vec::with_capacity(parsed.rows.len());
    for (index, batch) in parsed.rows.chunks(batch_size.max(1)).enumerate() {
        let request = pb::ImportStakeholdersRequest {
            request_id: format!("import-{import_id}-{index}"),
            source: source as i32,
            dry_run,
            rows: batch.iter().map(|row| row.row.clone()).collect(),
        };
        let mut attempts = 0;
        let reply = loop {
            match client.import_stakeholders(request.clone()).await {
                Ok(reply) => break reply.into_inner(),
                Err(status) if status.code() == Code::Unavailable && attempts < 10 => {
                    attempts += 1;
                    tokio::time::sleep(Duration::from_millis(200 * attempts)).await;
                }
                Err(status) => return Err(explain(status)),
            }
        };
        if reply.position > 0 {
            seen.note(maillage_stakeholders::CONTEXT, reply.position);
        }
        results.extend(reply.results);
        sent(batch.len());
    }
    Ok(results)
}

/// Counts of outcomes.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Rows that registered a new stakeholder.
    pub created: usize,
    /// Rows that gave an existing stakeholder what it lacked (a mandate, an affiliation).
    pub updated: usize,
    /// Rows imported before, or that brought nothing new.
    pub skipped: usize,
    /// Rows refused (a bad field, or a line that could not be read).
    pub failed: usize,
}

/// How many rows had each outcome.
pub fn summary(results: &[pb::ImportRowResult]) -> Summary {
    let mut summary = Summary::default();
    for result in results {
        match pb::ImportOutcome::try_from(result.outcome) {
            Ok(pb::ImportOutcome::Created) => summary.created += 1,
            Ok(pb::ImportOutcome::Updated) => summary.updated += 1,
            Ok(pb::ImportOutcome::Skipped) => summary.skipped += 1,
            _ => summary.failed += 1,
        }
    }
    summary
}

/// The service's refusals as line errors, with the column and value each
/// refused field came from.
pub fn refusals(rows: &[ParsedRow], results: &[pb::ImportRowResult]) -> Vec<LineError> {
    rows.iter()
        .zip(results)
        .filter(|(_, result)| result.outcome == pb::ImportOutcome::Failed as i32)
        .map(|(row, result)| {
            let field = if result.field.is_empty() {
                // A refusal of the whole row: named after what it is about.
                if result.reason.contains("mandate") {
                    "person.mandates"
                } else {
                    ""
                }
            } else {
                result.field.as_str()
            };
            let (column, value) = row.origins.of(field).unwrap_or(("", ""));
            LineError {
                line: row.row.line,
                column: column.to_owned(),
                value: value.to_owned(),
                reason: format!("refusée par le registre : {}", in_french(&result.reason)),
            }
        })
        .collect()
}

/// The service's reasons people meet most, in French (others as they are).
fn in_french(reason: &str) -> String {
    const KNOWN: &[(&str, &str)] = &[
        (
            "only an elected official may hold a mandate",
            "seul un élu peut détenir un mandat (la personne déjà enregistrée n'est pas élue : \
             modifiez son profil, puis importez à nouveau)",
        ),
        ("the person was erased", "la personne a été effacée"),
        ("the stakeholder is archived", "la fiche est archivée"),
        (
            "no organisation with this SIREN in the register",
            "aucune organisation de ce SIREN dans le registre (importez-la d'abord)",
        ),
        (
            "the SIREN's check digit is wrong (Luhn)",
            "la clé du SIREN est fausse (Luhn)",
        ),
        ("a SIREN is 9 digits", "un SIREN a 9 chiffres"),
        ("is not a valid email address", "adresse email invalide"),
    ];
    KNOWN
        .iter()
        .find(|(english, _)| reason.contains(english))
        .map_or_else(|| reason.to_owned(), |(_, french)| (*french).to_owned())
}

/// The report, in French.
pub fn render(
    file: &str,
    parsed: &Parsed,
    results: &[pb::ImportRowResult],
    dry_run: bool,
    territory: Option<&str>,
) -> String {
    let mut out = String::new();
    let format = parsed.format.map_or("?", Format::label);
    let encoding = parsed.encoding.map_or("?", |encoding| encoding.label());
    let delimiter = match parsed.delimiter {
        b'\t' => "tabulation".to_owned(),
        other => format!("« {} »", other as char),
    };
    let _ = writeln!(out, "Import de contacts — {file}");
    let _ = writeln!(
        out,
        "Format : {format} · encodage {encoding} · séparateur {delimiter}"
    );
    if let Some(territory) = territory {
        let _ = writeln!(out, "Territoire : {territory}");
    }
    if dry_run {
        let _ = writeln!(out, "Simulation (--dry-run) : rien n'a été écrit.");
    }
    let counts = summary(results);
    let mut errors: Vec<LineError> = parsed.errors.clone();
    errors.extend(refusals(&parsed.rows, results));
    errors.sort_by_key(|error| error.line);
    let refused_lines: std::collections::BTreeSet<u64> =
        errors.iter().map(|error| error.line).collect();
    let (created, updated, skipped) = if dry_run {
        ("à créer", "à mettre à jour", "inchangées")
    } else {
        ("créées", "mises à jour", "inchangées")
    };
    let _ = writeln!(out);
    let _ = writeln!(out, "Lignes lues : {}", parsed.lines);
    let _ = writeln!(
        out,
        "  {created} : {} · {updated} : {} · {skipped} : {} · en erreur : {} · écartées : {}",
        counts.created,
        counts.updated,
        counts.skipped,
        refused_lines.len(),
        parsed.left_out.len()
    );
    let mut reasons: BTreeMap<&str, usize> = BTreeMap::new();
    for (_, reason) in &parsed.left_out {
        *reasons.entry(reason.as_str()).or_default() += 1;
    }
    for (reason, count) in reasons {
        let _ = writeln!(out, "  écartées ({reason}) : {count}");
    }
    let mut matched: BTreeMap<&str, usize> = BTreeMap::new();
    for result in results {
        let how = match pb::ImportMatch::try_from(result.matched_by) {
            Ok(pb::ImportMatch::Fingerprint) => "déjà importées (même ligne)",
            Ok(pb::ImportMatch::Email) => "reconnues par l'email",
            Ok(pb::ImportMatch::Siren) => "reconnues par le SIREN",
            Ok(pb::ImportMatch::Identity) => {
                "reconnues par le nom, la commune et l'année de naissance"
            }
            _ => continue,
        };
        *matched.entry(how).or_default() += 1;
    }
    for (how, count) in matched {
        let _ = writeln!(out, "  {how} : {count}");
    }
    if !errors.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "Erreurs (ligne, colonne, valeur, raison) :");
        for error in &errors {
            let mut where_ = format!("  ligne {}", error.line);
            if !error.column.is_empty() {
                let _ = write!(where_, " · colonne « {} »", error.column);
            }
            if !error.value.is_empty() {
                let _ = write!(where_, " · valeur « {} »", error.value);
            }
            let _ = writeln!(out, "{where_} · {}", error.reason);
        }
    }
    out
}
