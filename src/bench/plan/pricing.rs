//! AWS KMS quotas and prices as data: `data/kms-pricing.toml`, embedded at build time
//! ([`Pricing::builtin`]), or another file of the same shape ([`Pricing::from_toml`], the
//! CLI's `--pricing FILE`).

use serde::{Deserialize, Serialize};

use super::PlanError;

/// The embedded `data/kms-pricing.toml`.
pub const BUILTIN_PRICING: &str = include_str!("../../../data/kms-pricing.toml");

/// Request prices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestPrice {
    /// Price of 10,000 symmetric cryptographic requests.
    pub price_per_10k: f64,
    /// Free requests per month (per account, all Regions).
    #[serde(default)]
    pub free_per_month: u64,
}

/// Key prices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyPrice {
    /// One customer-managed key for a month.
    pub price_per_key_month: f64,
    /// Caveats (rotation).
    #[serde(default)]
    pub note: String,
}

/// One tier of the symmetric request quota.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuotaTier {
    /// Requests per second, per account and Region.
    pub requests_per_second: u64,
    /// The tier of every Region not listed in another one.
    #[serde(default)]
    pub default: bool,
    /// Regions in this tier.
    #[serde(default)]
    pub regions: Vec<String>,
    /// Human description.
    #[serde(default)]
    pub note: String,
}

/// Quotas and prices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pricing {
    /// Where the numbers come from.
    pub source: String,
    /// When they were read.
    pub as_of: String,
    /// Currency of every price.
    pub currency: String,
    /// Request prices.
    pub requests: RequestPrice,
    /// Key prices.
    pub keys: KeyPrice,
    /// Quota tiers.
    pub quota_tiers: Vec<QuotaTier>,
}

impl Pricing {
    /// The embedded data.
    pub fn builtin() -> Result<Pricing, PlanError> {
        Pricing::from_toml(BUILTIN_PRICING)
    }

    /// Parses and checks a pricing file's text: prices not negative, quotas positive and
    /// distinct, exactly one default tier, no Region in two tiers.
    pub fn from_toml(text: &str) -> Result<Pricing, PlanError> {
        let p: Pricing = toml::from_str(text).map_err(|e| PlanError::Pricing(e.to_string()))?;
        let bad = |why: &str| Err(PlanError::Pricing(why.to_string()));
        let finite_nonneg = |x: f64| x.is_finite() && x >= 0.0;
        if !finite_nonneg(p.requests.price_per_10k) || !finite_nonneg(p.keys.price_per_key_month) {
            return bad("prices must be finite and not negative");
        }
        if p.quota_tiers.is_empty() {
            return bad("no quota_tiers");
        }
        if p.quota_tiers.iter().filter(|t| t.default).count() != 1 {
            return bad("exactly one quota tier must have default = true");
        }
        let mut quotas: Vec<u64> = p
            .quota_tiers
            .iter()
            .map(|t| t.requests_per_second)
            .collect();
        if quotas.contains(&0) {
            return bad("a quota tier has requests_per_second = 0");
        }
        quotas.sort_unstable();
        quotas.dedup();
        if quotas.len() != p.quota_tiers.len() {
            return bad("two quota tiers have the same requests_per_second");
        }
        let mut regions: Vec<&str> = p
            .quota_tiers
            .iter()
            .flat_map(|t| t.regions.iter().map(String::as_str))
            .collect();
        let n = regions.len();
        regions.sort_unstable();
        regions.dedup();
        if regions.len() != n {
            return bad("a Region is listed in two quota tiers");
        }
        Ok(p)
    }

    /// The tier of `requests_per_second`, or an error listing the tiers.
    pub fn tier(&self, requests_per_second: u64) -> Result<&QuotaTier, PlanError> {
        self.quota_tiers
            .iter()
            .find(|t| t.requests_per_second == requests_per_second)
            .ok_or_else(|| PlanError::UnknownTier {
                quota: requests_per_second,
                tiers: self.tier_list(),
            })
    }

    /// The tier of `region`: the one listing it, else the default tier.
    pub fn tier_for_region(&self, region: &str) -> &QuotaTier {
        self.quota_tiers
            .iter()
            .find(|t| t.regions.iter().any(|r| r == region))
            .unwrap_or_else(|| self.default_tier())
    }

    /// The default tier (checked to exist when parsed).
    pub fn default_tier(&self) -> &QuotaTier {
        self.quota_tiers
            .iter()
            .find(|t| t.default)
            .unwrap_or(&self.quota_tiers[0])
    }

    fn tier_list(&self) -> String {
        let v: Vec<String> = self
            .quota_tiers
            .iter()
            .map(|t| t.requests_per_second.to_string())
            .collect();
        v.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_data_has_the_documented_tiers_and_prices() {
        let p = Pricing::builtin().unwrap();
        let q: Vec<u64> = p
            .quota_tiers
            .iter()
            .map(|t| t.requests_per_second)
            .collect();
        assert_eq!(q, [10_000, 20_000, 100_000]);
        assert_eq!(p.default_tier().requests_per_second, 10_000);
        assert_eq!(p.tier_for_region("us-east-1").requests_per_second, 100_000);
        assert_eq!(p.tier_for_region("eu-west-2").requests_per_second, 20_000);
        assert_eq!(p.tier_for_region("sa-east-1").requests_per_second, 10_000);
        assert_eq!(p.requests.price_per_10k, 0.03);
        assert_eq!(p.requests.free_per_month, 20_000);
        assert_eq!(p.keys.price_per_key_month, 1.0);
        assert_eq!(p.currency, "USD");
        assert!(!p.source.is_empty() && !p.as_of.is_empty());
        assert!(p.tier(20_000).is_ok());
        let e = p.tier(30_000).unwrap_err().to_string();
        assert!(e.contains("10000, 20000, 100000"), "{e}");
    }

    #[test]
    fn bad_files_are_refused() {
        let good = BUILTIN_PRICING;
        for (from, to, why) in [
            (
                "price_per_10k = 0.03",
                "price_per_10k = -1.0",
                "not negative",
            ),
            ("default = true\n", "", "exactly one"),
            (
                "requests_per_second = 20000",
                "requests_per_second = 10000",
                "same",
            ),
            (
                "\"eu-west-1\"]",
                "\"eu-west-1\", \"us-east-2\"]",
                "two quota tiers",
            ),
            (
                "currency = \"USD\"",
                "currency = \"USD\"\ncolour = 1",
                "unknown field",
            ),
        ] {
            assert!(good.contains(from), "{from}");
            let e = Pricing::from_toml(&good.replacen(from, to, 1))
                .unwrap_err()
                .to_string();
            assert!(e.contains(why), "{from} -> {to}: {e}");
        }
    }
}
