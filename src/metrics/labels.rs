//! Label sets. Each value comes from a closed set (route templates of the
//! route table, the methods below, status codes, failure reasons), never
//! from free request text, so the number of series stays bounded.

use std::borrow::Cow;
use std::fmt::Write;

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};

/// The HTTP method, with every extension method folded into `OTHER`: the
/// method is client text, and each distinct value would be a new series.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum MethodLabel {
    Get,
    Head,
    Post,
    Put,
    Patch,
    Delete,
    Options,
    Other,
}

impl MethodLabel {
    pub fn of(method: &str) -> MethodLabel {
        match method {
            "GET" => MethodLabel::Get,
            "HEAD" => MethodLabel::Head,
            "POST" => MethodLabel::Post,
            "PUT" => MethodLabel::Put,
            "PATCH" => MethodLabel::Patch,
            "DELETE" => MethodLabel::Delete,
            "OPTIONS" => MethodLabel::Options,
            _ => MethodLabel::Other,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MethodLabel::Get => "GET",
            MethodLabel::Head => "HEAD",
            MethodLabel::Post => "POST",
            MethodLabel::Put => "PUT",
            MethodLabel::Patch => "PATCH",
            MethodLabel::Delete => "DELETE",
            MethodLabel::Options => "OPTIONS",
            MethodLabel::Other => "OTHER",
        }
    }
}

impl EncodeLabelValue for MethodLabel {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        encoder.write_str(self.as_str())
    }
}

/// `scimd_http_requests_total`. The route is borrowed for the constant
/// `unmatched` and owned for a template (which actix builds per request).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub route: Cow<'static, str>,
    pub method: MethodLabel,
    pub status: u16,
}

/// `scimd_http_request_duration_seconds`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: Cow<'static, str>,
    pub method: MethodLabel,
}

/// `scimd_authentication_failures_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabels {
    pub reason: &'static str,
}

/// `scimd_rate_limited_total`: the connector's id (or, for a token without
/// a connector, `token:` and the token's id). Ids of rows an administrator
/// created, never client text, so the series stay bounded.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ConnectorLabels {
    pub connector: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extension_methods_fold_into_other() {
        assert_eq!(MethodLabel::of("PATCH").as_str(), "PATCH");
        assert_eq!(MethodLabel::of("BREW"), MethodLabel::Other);
    }
}

/// What became of events sent to a subscription.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResultLabels {
    pub result: &'static str,
}

/// A subscription, by id (its name is an administrator's free text).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SubscriptionLabels {
    pub subscription: String,
}
