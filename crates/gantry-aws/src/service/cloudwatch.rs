//! CloudWatch metric alarms (query protocol, 2010-08-01; signed as
//! `monitoring`).

use std::collections::BTreeMap;

use crate::client::{CLOUDWATCH, Client};
use crate::error::Error;
use crate::protocol::{Params, query};
use crate::service::Tags;
use crate::service::sns::tags_of;
use crate::xml::Element;

const VERSION: &str = "2010-08-01";

/// A metric alarm, as `PutMetricAlarm` takes it and `DescribeAlarms`
/// reports it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Alarm {
    pub name: String,
    /// Set by AWS (ignored by [`put_metric_alarm`]).
    pub arn: String,
    pub comparison_operator: String,
    pub evaluation_periods: i64,
    pub metric_name: Option<String>,
    pub namespace: Option<String>,
    pub period: Option<i64>,
    pub statistic: Option<String>,
    pub extended_statistic: Option<String>,
    pub threshold: Option<f64>,
    pub dimensions: BTreeMap<String, String>,
    pub description: Option<String>,
    pub alarm_actions: Vec<String>,
    pub ok_actions: Vec<String>,
    pub insufficient_data_actions: Vec<String>,
    pub actions_enabled: bool,
    pub datapoints_to_alarm: Option<i64>,
    pub treat_missing_data: Option<String>,
    pub unit: Option<String>,
}

fn alarm_of(m: &Element) -> Alarm {
    let s = |k: &str| m.text_at(k).filter(|t| !t.is_empty()).map(str::to_owned);
    let n = |k: &str| s(k).and_then(|t| t.parse::<f64>().ok());
    let list = |k: &str| -> Vec<String> {
        m.list(k)
            .into_iter()
            .map(|x| x.text.clone())
            .filter(|t| !t.is_empty())
            .collect()
    };
    Alarm {
        name: s("AlarmName").unwrap_or_default(),
        arn: s("AlarmArn").unwrap_or_default(),
        comparison_operator: s("ComparisonOperator").unwrap_or_default(),
        evaluation_periods: n("EvaluationPeriods").unwrap_or(0.0) as i64,
        metric_name: s("MetricName"),
        namespace: s("Namespace"),
        period: n("Period").map(|p| p as i64),
        statistic: s("Statistic"),
        extended_statistic: s("ExtendedStatistic"),
        threshold: n("Threshold"),
        dimensions: m
            .list("Dimensions")
            .into_iter()
            .filter_map(|d| {
                Some((
                    d.text_at("Name")?.to_owned(),
                    d.text_at("Value").unwrap_or_default().to_owned(),
                ))
            })
            .collect(),
        description: s("AlarmDescription"),
        alarm_actions: list("AlarmActions"),
        ok_actions: list("OKActions"),
        insufficient_data_actions: list("InsufficientDataActions"),
        actions_enabled: s("ActionsEnabled").is_none_or(|t| t == "true"),
        datapoints_to_alarm: n("DatapointsToAlarm").map(|p| p as i64),
        treat_missing_data: s("TreatMissingData"),
        unit: s("Unit"),
    }
}

/// Creates or replaces the alarm `a.name` (tags only apply on create).
pub async fn put_metric_alarm(c: &Client, a: &Alarm, tags: &Tags) -> Result<(), Error> {
    let mut p = Params::new();
    p.set("AlarmName", a.name.clone())
        .set("ComparisonOperator", a.comparison_operator.clone())
        .set("EvaluationPeriods", a.evaluation_periods.to_string())
        .opt("MetricName", a.metric_name.clone())
        .opt("Namespace", a.namespace.clone())
        .opt("Period", a.period.map(|x| x.to_string()))
        .opt("Statistic", a.statistic.clone())
        .opt("ExtendedStatistic", a.extended_statistic.clone())
        .opt("Threshold", a.threshold.map(|x| x.to_string()))
        .opt("AlarmDescription", a.description.clone())
        .set("ActionsEnabled", a.actions_enabled.to_string())
        .opt(
            "DatapointsToAlarm",
            a.datapoints_to_alarm.map(|x| x.to_string()),
        )
        .opt("TreatMissingData", a.treat_missing_data.clone())
        .opt("Unit", a.unit.clone())
        .member_pairs("Dimensions", "Name", "Value", a.dimensions.iter())
        .member_list("AlarmActions", &a.alarm_actions)
        .member_list("OKActions", &a.ok_actions)
        .member_list("InsufficientDataActions", &a.insufficient_data_actions)
        .member_pairs("Tags", "Key", "Value", tags.iter());
    query(c, &CLOUDWATCH, "PutMetricAlarm", VERSION, &p)
        .await
        .map(drop)
}

/// The metric alarm of that name, or `None`.
pub async fn describe_alarm(c: &Client, name: &str) -> Result<Option<Alarm>, Error> {
    let mut p = Params::new();
    p.set("AlarmNames.member.1", name)
        .set("AlarmTypes.member.1", "MetricAlarm");
    let e = query(c, &CLOUDWATCH, "DescribeAlarms", VERSION, &p).await?;
    Ok(e.list("MetricAlarms")
        .into_iter()
        .map(alarm_of)
        .find(|a| a.name == name))
}

pub async fn delete_alarm(c: &Client, name: &str) -> Result<(), Error> {
    let mut p = Params::new();
    p.set("AlarmNames.member.1", name);
    match query(c, &CLOUDWATCH, "DeleteAlarms", VERSION, &p).await {
        Err(e) if e.is(&["ResourceNotFound"]) => Ok(()),
        r => r.map(drop),
    }
}

pub async fn list_tags(c: &Client, arn: &str) -> Result<Tags, Error> {
    let mut p = Params::new();
    p.set("ResourceARN", arn);
    let e = query(c, &CLOUDWATCH, "ListTagsForResource", VERSION, &p).await?;
    Ok(tags_of(&e, "Tags"))
}

pub async fn tag_resource(c: &Client, arn: &str, tags: &Tags) -> Result<(), Error> {
    let mut p = Params::new();
    p.set("ResourceARN", arn)
        .member_pairs("Tags", "Key", "Value", tags.iter());
    query(c, &CLOUDWATCH, "TagResource", VERSION, &p)
        .await
        .map(drop)
}

pub async fn untag_resource(c: &Client, arn: &str, keys: &[String]) -> Result<(), Error> {
    let mut p = Params::new();
    p.set("ResourceARN", arn).member_list("TagKeys", keys);
    query(c, &CLOUDWATCH, "UntagResource", VERSION, &p)
        .await
        .map(drop)
}
