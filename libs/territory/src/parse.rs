//! Parsing of the derived data file (`data/cog2026.tsv`) into a [`Territory`], with the
//! consistency checks the lookups rely on (sorted unique codes, resolvable references).
//!
//! The file format is described in its own header and written by `scripts/refresh-territory`.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::error::TerritoryError;
use crate::level::TerritoryLevel;
use crate::model::{AliasKind, Commune, CommuneAlias, Departement, Epci, EpciKind, Region, Zone};
use crate::territory::{find, Territory};

/// First line of a file this parser understands.
const MAGIC: &str = "#maillage-territory\tv1";

fn data_error(line: usize, message: impl Into<String>) -> TerritoryError {
    TerritoryError::Data {
        line,
        message: message.into(),
    }
}

/// Most fields a record has.
const MAX_FIELDS: usize = 7;

/// The fields of one record, with its line number for error messages.
struct Fields<'a> {
    line: usize,
    fields: [&'a str; MAX_FIELDS],
    len: usize,
}

impl<'a> Fields<'a> {
    /// Splits a line on tabs without allocating.
    fn split(line: usize, raw: &'a str) -> Result<Self, TerritoryError> {
        let mut fields = [""; MAX_FIELDS];
        let mut len = 0;
        for field in raw.split('\t') {
            if len == MAX_FIELDS {
                return Err(data_error(line, format!("more than {MAX_FIELDS} fields")));
            }
            fields[len] = field;
            len += 1;
        }
        Ok(Fields { line, fields, len })
    }

    fn expect_len(&self, n: usize) -> Result<(), TerritoryError> {
        if self.len == n {
            Ok(())
        } else {
            Err(data_error(
                self.line,
                format!("expected {n} fields, found {}", self.len),
            ))
        }
    }

    /// A code field, checked against the shape of its level.
    fn code(&self, i: usize, level: TerritoryLevel) -> Result<String, TerritoryError> {
        let code = self.fields[i];
        if level.is_well_formed(code) {
            Ok(code.to_string())
        } else {
            Err(data_error(
                self.line,
                format!("malformed {level} code {code:?}"),
            ))
        }
    }

    /// A non-empty text field.
    fn text(&self, i: usize) -> Result<String, TerritoryError> {
        let text = self.fields[i];
        if text.is_empty() {
            Err(data_error(self.line, format!("empty field {i}")))
        } else {
            Ok(text.to_string())
        }
    }
}

/// Checks that records are sorted by strictly increasing code (binary search relies on it).
fn check_sorted<T>(
    items: &[T],
    key: impl Fn(&T) -> &str,
    what: &str,
) -> Result<(), TerritoryError> {
    match items.windows(2).find(|w| key(&w[0]) >= key(&w[1])) {
        Some(w) => Err(data_error(
            0,
            format!("{what} codes not strictly increasing at {:?}", key(&w[1])),
        )),
        None => Ok(()),
    }
}

/// Parses the whole file.
pub(crate) fn parse(text: &str) -> Result<Territory, TerritoryError> {
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
    match lines.next() {
        Some((_, first)) if first == MAGIC => {}
        _ => return Err(data_error(1, format!("first line must be {MAGIC:?}"))),
    }

    let mut regions = Vec::new();
    let mut departements: Vec<Departement> = Vec::new();
    let mut epcis: Vec<Epci> = Vec::new();
    let mut communes: Vec<Commune> = Vec::new();
    let mut aliases = Vec::new();
    let mut declared_counts: Option<(usize, String)> = None;

    for (line, raw) in lines {
        if let Some(rest) = raw.strip_prefix("#counts\t") {
            declared_counts = Some((line, rest.to_string()));
            continue;
        }
        if raw.starts_with('#') || raw.is_empty() {
            continue;
        }
        let f = Fields::split(line, raw)?;
        match f.fields[0] {
            "R" => {
                f.expect_len(4)?;
                let zone = Zone::from_code(f.fields[3])
                    .ok_or_else(|| data_error(line, format!("unknown zone {:?}", f.fields[3])))?;
                regions.push(Region {
                    code: f.code(1, TerritoryLevel::Region)?,
                    name: f.text(2)?,
                    zone,
                });
            }
            "D" => {
                f.expect_len(4)?;
                departements.push(Departement {
                    code: f.code(1, TerritoryLevel::Departement)?,
                    name: f.text(2)?,
                    region: f.code(3, TerritoryLevel::Region)?,
                    zone: Zone::Metro, // replaced by the région's zone below
                });
            }
            "E" => {
                f.expect_len(4)?;
                let kind = EpciKind::from_code(f.fields[3]).ok_or_else(|| {
                    data_error(line, format!("unknown EPCI kind {:?}", f.fields[3]))
                })?;
                epcis.push(Epci {
                    siren: f.code(1, TerritoryLevel::Epci)?,
                    name: f.text(2)?,
                    kind,
                    members: Vec::new(),
                    population: 0,
                });
            }
            "C" => {
                f.expect_len(7)?;
                let epci = match f.fields[4] {
                    "" => None,
                    _ => Some(f.code(4, TerritoryLevel::Epci)?),
                };
                let population = match f.fields[5] {
                    "" => None,
                    p => Some(
                        p.parse::<u32>()
                            .map_err(|e| data_error(line, format!("bad population {p:?}: {e}")))?,
                    ),
                };
                let postcodes = match f.fields[6] {
                    "" => Vec::new(),
                    p => p.split(',').map(str::to_string).collect(),
                };
                communes.push(Commune {
                    code: f.code(1, TerritoryLevel::Commune)?,
                    name: f.text(2)?,
                    departement: f.code(3, TerritoryLevel::Departement)?,
                    region: String::new(), // filled in from the département below
                    epci,
                    population,
                    postcodes,
                    zone: Zone::Metro, // replaced by the région's zone below
                });
            }
            "A" => {
                f.expect_len(5)?;
                let kind = AliasKind::from_code(f.fields[3]).ok_or_else(|| {
                    data_error(line, format!("unknown alias kind {:?}", f.fields[3]))
                })?;
                let name = match (kind, f.fields[2]) {
                    (AliasKind::FormerCode, "") => None,
                    (AliasKind::FormerCode, _) => {
                        return Err(data_error(line, "a former code has no name"))
                    }
                    _ => Some(f.text(2)?),
                };
                aliases.push(CommuneAlias {
                    code: f.code(1, TerritoryLevel::Commune)?,
                    name,
                    kind,
                    commune: f.code(4, TerritoryLevel::Commune)?,
                });
            }
            other => return Err(data_error(line, format!("unknown record kind {other:?}"))),
        }
    }

    check_sorted(&regions, |r| &r.code, "région")?;
    check_sorted(&departements, |d| &d.code, "département")?;
    check_sorted(&epcis, |e| &e.siren, "EPCI")?;
    check_sorted(&communes, |c| &c.code, "commune")?;
    check_sorted(&aliases, |a| &a.code, "alias")?;

    let found = format!(
        "R={}\tD={}\tE={}\tC={}\tA={}",
        regions.len(),
        departements.len(),
        epcis.len(),
        communes.len(),
        aliases.len()
    );
    match declared_counts {
        Some((_, declared)) if declared == found => {}
        Some((line, declared)) => {
            return Err(data_error(
                line,
                format!("header declares {declared:?}, file holds {found:?}"),
            ))
        }
        None => return Err(data_error(0, "missing #counts line")),
    }

    let mut region_communes = vec![Vec::new(); regions.len()];
    let mut departement_communes = vec![Vec::new(); departements.len()];
    let mut region_departements = vec![Vec::new(); regions.len()];
    let mut epci_communes: Vec<Vec<u32>> = vec![Vec::new(); epcis.len()];

    // Région index of each département.
    let mut departement_region = Vec::with_capacity(departements.len());
    for (di, d) in departements.iter_mut().enumerate() {
        let ri = find(&regions, &d.region, |r| &r.code).ok_or_else(|| {
            data_error(
                0,
                format!("département {} has unknown région {}", d.code, d.region),
            )
        })?;
        d.zone = regions[ri].zone;
        region_departements[ri].push(index(di)?);
        departement_region.push(ri);
    }
    let epci_index: HashMap<&str, usize> = epcis
        .iter()
        .enumerate()
        .map(|(i, e)| (e.siren.as_str(), i))
        .collect();
    // EPCI index of each commune, resolved before `epcis` is mutated below.
    let mut commune_epci = Vec::with_capacity(communes.len());
    for c in &communes {
        commune_epci.push(match &c.epci {
            None => None,
            Some(siren) => Some(*epci_index.get(siren.as_str()).ok_or_else(|| {
                data_error(0, format!("commune {} has unknown EPCI {siren}", c.code))
            })?),
        });
    }
    drop(epci_index);
    // Communes are sorted by code, so those of a département mostly follow each other:
    // the last département found is tried first.
    let mut last_departement: Option<usize> = None;
    for (ci, (c, epci)) in communes.iter_mut().zip(commune_epci).enumerate() {
        let ci = index(ci)?;
        let di = match last_departement {
            Some(di) if departements[di].code == c.departement => di,
            _ => find(&departements, &c.departement, |d| &d.code).ok_or_else(|| {
                data_error(
                    0,
                    format!(
                        "commune {} has unknown département {}",
                        c.code, c.departement
                    ),
                )
            })?,
        };
        last_departement = Some(di);
        let d = &departements[di];
        c.region.clone_from(&d.region);
        c.zone = d.zone;
        departement_communes[di].push(ci);
        region_communes[departement_region[di]].push(ci);
        if let Some(ei) = epci {
            epci_communes[ei].push(ci);
            let e = &mut epcis[ei];
            e.members.push(c.code.clone());
            e.population += u64::from(c.population.unwrap_or(0));
        }
    }
    if let Some(e) = epcis.iter().find(|e| e.members.is_empty()) {
        return Err(data_error(0, format!("EPCI {} has no member", e.siren)));
    }
    if let Some(a) = aliases
        .iter()
        .find(|a| find(&communes, &a.commune, |c| &c.code).is_none())
    {
        return Err(data_error(
            0,
            format!(
                "{} {} points at unknown commune {}",
                a.kind, a.code, a.commune
            ),
        ));
    }

    Ok(Territory {
        regions,
        departements,
        epcis,
        communes,
        aliases,
        region_communes,
        region_departements,
        departement_communes,
        epci_communes,
        names: OnceLock::new(),
    })
}

/// A record index as `u32` (the file holds far fewer than 2^32 records).
fn index(i: usize) -> Result<u32, TerritoryError> {
    u32::try_from(i).map_err(|_| data_error(0, "too many records"))
}
