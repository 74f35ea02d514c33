//! The demo's territory: the Communauté de communes du Castelrenaudais (Indre-et-Loire,
//! SIREN 243700499): 16 rural member communes, 15,802 inhabitants (COG 2026), its seat
//! at Château-Renault. The seed decides which communes the story reaches; a few stay
//! white zones.

use anyhow::Context;
use maillage_proto::v1 as pb;
use maillage_territory::{Commune, Epci, Territory};
use rand::seq::SliceRandom;
use rand::Rng;

/// SIREN of the Communauté de communes du Castelrenaudais.
pub const EPCI_SIREN: &str = "243700499";
/// Château-Renault, the seat of the communauté de communes.
pub const SEAT: &str = "37063";
/// Tours, where the CCI and the CMA of Indre-et-Loire sit (outside the EPCI).
pub const TOURS: &str = "37261";
/// Chambray-lès-Tours, seat of the chambre d'agriculture d'Indre-et-Loire.
pub const CHAMBRAY: &str = "37050";
/// Member communes the story never reaches.
const WHITE_ZONES: usize = 4;

/// Who the story reaches, where.
pub struct Plan {
    /// The EPCI whose territory is played.
    pub epci: &'static Epci,
    /// Every member commune, in code order.
    pub communes: Vec<&'static Commune>,
    /// Communes with engagement, the seat first (so never empty: `active[0]` is the
    /// seat), the others being white zones.
    pub active: Vec<&'static Commune>,
    /// Active communes whose élus are contacted.
    pub elu_communes: Vec<&'static Commune>,
}

impl Plan {
    /// Draws the plan from the seed.
    pub fn draw(rng: &mut impl Rng) -> anyhow::Result<Self> {
        let territory = Territory::shared();
        let epci = territory
            .epci(EPCI_SIREN)
            .context("the demo's EPCI is missing from the COG reference")?;
        let communes = territory
            .communes_of_epci(EPCI_SIREN)
            .context("the demo's EPCI has no communes in the COG reference")?;
        let seat = territory
            .commune(SEAT)
            .context("the demo's seat is missing from the COG reference")?;
        let mut others: Vec<&Commune> = communes
            .iter()
            .copied()
            .filter(|c| c.code != SEAT)
            .collect();
        others.shuffle(rng);
        let active_count = others.len().saturating_sub(WHITE_ZONES);
        let mut active = vec![seat];
        active.extend(others.into_iter().take(active_count));
        // Élus are met in three quarters of the active communes, the seat always.
        let elu_count = (active.len() * 3).div_ceil(4);
        let elu_communes = active.iter().copied().take(elu_count).collect();
        Ok(Self {
            epci,
            communes,
            active,
            elu_communes,
        })
    }

    /// The EPCI as a territory reference.
    pub fn epci_ref(&self) -> pb::TerritoryRef {
        pb::TerritoryRef {
            level: pb::TerritoryLevel::Epci as i32,
            code: self.epci.siren.clone(),
        }
    }

    /// An active commune drawn with a weight proportional to its population.
    pub fn weighted_commune(&self, rng: &mut impl Rng) -> &'static Commune {
        let total: u64 = self
            .active
            .iter()
            .map(|c| u64::from(c.population.unwrap_or(1)))
            .sum();
        let mut pick = rng.gen_range(0..total.max(1));
        for commune in &self.active {
            let weight = u64::from(commune.population.unwrap_or(1));
            if pick < weight {
                return commune;
            }
            pick -= weight;
        }
        self.active[0]
    }

    /// Any active commune, uniformly.
    pub fn any_active(&self, rng: &mut impl Rng) -> &'static Commune {
        self.active[rng.gen_range(0..self.active.len())]
    }
}

/// A commune as a territory reference.
pub fn commune_ref(code: &str) -> pb::TerritoryRef {
    pb::TerritoryRef {
        level: pb::TerritoryLevel::Commune as i32,
        code: code.to_owned(),
    }
}
