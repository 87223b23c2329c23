//! aws_cloudwatch_metric_alarm.

use async_trait::async_trait;
use gantry_iac::provider::{Attribute, ProviderError, Schema};
use gantry_iac::value::{Type, Value};

use super::logs::{check_conflict, check_one_of, check_range};
use super::values::{
    attr, get_bool, get_int, get_str, get_string_map, get_strings, null_object, opt_string,
    req_str, set, string_map,
};
use super::{Ctx, ResourceType, aws_err, path, planned_tags, tag_changes};
use crate::service::cloudwatch::{self, Alarm};

pub(super) fn resources() -> super::Resources {
    vec![("aws_cloudwatch_metric_alarm", Box::new(MetricAlarm))]
}

pub(super) struct MetricAlarm;

const COMPARISON_OPERATORS: [&str; 7] = [
    "GreaterThanOrEqualToThreshold",
    "GreaterThanThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
    "LessThanLowerOrGreaterThanUpperThreshold",
    "LessThanLowerThreshold",
    "GreaterThanUpperThreshold",
];

const STATISTICS: [&str; 5] = ["SampleCount", "Average", "Sum", "Minimum", "Maximum"];

const TREAT_MISSING_DATA: [&str; 4] = ["missing", "ignore", "breaching", "notBreaching"];

const ACTION_SETS: [&str; 3] = ["alarm_actions", "ok_actions", "insufficient_data_actions"];

fn string_set(xs: &[String]) -> Value {
    Value::set_from(xs.iter().map(|s| Value::string(s.clone())).collect())
}

/// The alarm a planned value describes.
fn alarm_of(planned: &Value) -> Result<Alarm, ProviderError> {
    Ok(Alarm {
        name: req_str(planned, "alarm_name")?.to_owned(),
        arn: String::new(),
        comparison_operator: req_str(planned, "comparison_operator")?.to_owned(),
        evaluation_periods: get_int(planned, "evaluation_periods").unwrap_or(1),
        metric_name: get_str(planned, "metric_name").map(str::to_owned),
        namespace: get_str(planned, "namespace").map(str::to_owned),
        period: get_int(planned, "period"),
        statistic: get_str(planned, "statistic").map(str::to_owned),
        extended_statistic: get_str(planned, "extended_statistic").map(str::to_owned),
        threshold: attr(planned, "threshold").as_f64(),
        dimensions: get_string_map(planned, "dimensions")?,
        description: get_str(planned, "alarm_description").map(str::to_owned),
        alarm_actions: get_strings(planned, "alarm_actions"),
        ok_actions: get_strings(planned, "ok_actions"),
        insufficient_data_actions: get_strings(planned, "insufficient_data_actions"),
        actions_enabled: get_bool(planned, "actions_enabled").unwrap_or(true),
        datapoints_to_alarm: get_int(planned, "datapoints_to_alarm"),
        treat_missing_data: get_str(planned, "treat_missing_data").map(str::to_owned),
        unit: get_str(planned, "unit").map(str::to_owned),
    })
}

#[async_trait]
impl ResourceType for MetricAlarm {
    fn schema(&self) -> Schema {
        let mut s = Schema::new()
            .attr("alarm_name", Attribute::required(Type::String).force_new())
            .attr("comparison_operator", Attribute::required(Type::String))
            .attr("evaluation_periods", Attribute::required(Type::Number))
            .attr("metric_name", Attribute::optional(Type::String))
            .attr("namespace", Attribute::optional(Type::String))
            .attr("period", Attribute::optional(Type::Number))
            .attr("statistic", Attribute::optional(Type::String))
            .attr("extended_statistic", Attribute::optional(Type::String))
            .attr("threshold", Attribute::optional(Type::Number))
            .attr("dimensions", Attribute::optional(Type::map(Type::String)))
            .attr("alarm_description", Attribute::optional(Type::String))
            .attr("actions_enabled", Attribute::optional(Type::Bool))
            .attr("datapoints_to_alarm", Attribute::optional(Type::Number))
            .attr("treat_missing_data", Attribute::optional(Type::String))
            .attr("unit", Attribute::optional(Type::String))
            .attr("id", Attribute::computed(Type::String))
            .attr("arn", Attribute::computed(Type::String));
        for a in ACTION_SETS {
            s = s.attr(a, Attribute::optional(Type::set(Type::String)));
        }
        s
    }

    fn defaults(&self) -> Vec<(&'static str, Value)> {
        vec![
            ("actions_enabled", Value::Bool(true)),
            ("treat_missing_data", Value::string("missing")),
        ]
    }

    fn tagged(&self) -> bool {
        true
    }

    fn validate(&self, config: &Value) -> Vec<ProviderError> {
        let mut out = Vec::new();
        out.extend(check_one_of(
            config,
            "comparison_operator",
            &COMPARISON_OPERATORS,
        ));
        out.extend(check_one_of(config, "statistic", &STATISTICS));
        out.extend(check_one_of(
            config,
            "treat_missing_data",
            &TREAT_MISSING_DATA,
        ));
        out.extend(check_range(config, "evaluation_periods", 1, i64::MAX));
        out.extend(check_range(config, "datapoints_to_alarm", 1, i64::MAX));
        out.extend(check_conflict(config, "statistic", "extended_statistic"));
        if let Some(name) = get_str(config, "alarm_name")
            && (name.is_empty() || name.len() > 255)
        {
            out.push(
                ProviderError::new("invalid value for alarm_name")
                    .with_detail(format!(
                        "alarm_name must be 1 to 255 characters, got {}",
                        name.len()
                    ))
                    .at(path("alarm_name")),
            );
        }
        if !attr(config, "metric_name").is_null()
            && attr(config, "statistic").is_null()
            && attr(config, "extended_statistic").is_null()
        {
            out.push(
                ProviderError::new("missing required argument")
                    .with_detail(
                        "one of `statistic` or `extended_statistic` must be set for a metric alarm",
                    )
                    .at(path("statistic")),
            );
        }
        out
    }

    async fn create(&self, ctx: &Ctx, planned: &Value) -> Result<Value, ProviderError> {
        let a = alarm_of(planned)?;
        cloudwatch::put_metric_alarm(&ctx.client, &a, &planned_tags(planned))
            .await
            .map_err(aws_err(format!(
                "creating CloudWatch Metric Alarm ({})",
                a.name
            )))?;
        let mut v = planned.clone();
        set(&mut v, "id", a.name);
        Ok(v)
    }

    async fn read(&self, ctx: &Ctx, state: &Value) -> Result<Option<Value>, ProviderError> {
        let name = req_str(state, "id")?;
        let Some(a) = cloudwatch::describe_alarm(&ctx.client, name)
            .await
            .map_err(aws_err(format!("reading CloudWatch Metric Alarm ({name})")))?
        else {
            return Ok(None);
        };
        let tags = cloudwatch::list_tags(&ctx.client, &a.arn)
            .await
            .map_err(aws_err(format!(
                "listing tags for CloudWatch Metric Alarm ({name})"
            )))?;
        let mut v = null_object(&self.schema());
        set(&mut v, "id", a.name.clone());
        set(&mut v, "alarm_name", a.name);
        set(&mut v, "arn", a.arn);
        set(&mut v, "comparison_operator", a.comparison_operator);
        set(&mut v, "evaluation_periods", a.evaluation_periods);
        set(&mut v, "metric_name", opt_string(a.metric_name));
        set(&mut v, "namespace", opt_string(a.namespace));
        set(
            &mut v,
            "period",
            a.period.map_or(Value::Null, |p| Value::Number(p as f64)),
        );
        set(&mut v, "statistic", opt_string(a.statistic));
        set(
            &mut v,
            "extended_statistic",
            opt_string(a.extended_statistic),
        );
        set(
            &mut v,
            "threshold",
            a.threshold.map_or(Value::Null, Value::Number),
        );
        // An empty map and no map are the same to AWS; keep the state's.
        let dims = if a.dimensions.is_empty() && attr(state, "dimensions").is_null() {
            Value::Null
        } else {
            string_map(&a.dimensions)
        };
        set(&mut v, "dimensions", dims);
        set(&mut v, "alarm_description", opt_string(a.description));
        for (k, xs) in [
            ("alarm_actions", &a.alarm_actions),
            ("ok_actions", &a.ok_actions),
            ("insufficient_data_actions", &a.insufficient_data_actions),
        ] {
            let x = if xs.is_empty() && attr(state, k).is_null() {
                Value::Null
            } else {
                string_set(xs)
            };
            set(&mut v, k, x);
        }
        set(&mut v, "actions_enabled", a.actions_enabled);
        set(
            &mut v,
            "datapoints_to_alarm",
            a.datapoints_to_alarm
                .map_or(Value::Null, |p| Value::Number(p as f64)),
        );
        set(
            &mut v,
            "treat_missing_data",
            a.treat_missing_data.unwrap_or_else(|| "missing".into()),
        );
        set(&mut v, "unit", opt_string(a.unit));
        set(&mut v, "tags_all", string_map(&tags));
        Ok(Some(v))
    }

    async fn update(&self, ctx: &Ctx, prior: &Value, planned: &Value) -> Result<(), ProviderError> {
        let name = req_str(prior, "id")?;
        let mut changed = false;
        if let (Value::Object(p), Value::Object(n)) = (prior.unmarked(), planned.unmarked()) {
            changed = p
                .iter()
                .filter(|(k, _)| !matches!(k.as_str(), "tags" | "tags_all"))
                .any(|(k, x)| !n.get(k).is_some_and(|y| x.equals(y)));
        }
        if changed {
            // PutMetricAlarm replaces the whole definition (tags aside).
            let a = alarm_of(planned)?;
            cloudwatch::put_metric_alarm(&ctx.client, &a, &Default::default())
                .await
                .map_err(aws_err(format!(
                    "updating CloudWatch Metric Alarm ({name})"
                )))?;
        }
        let arn = req_str(prior, "arn")?;
        let (set_tags, removed) = tag_changes(prior, planned);
        if !removed.is_empty() {
            cloudwatch::untag_resource(&ctx.client, arn, &removed)
                .await
                .map_err(aws_err(format!(
                    "untagging CloudWatch Metric Alarm ({name})"
                )))?;
        }
        if !set_tags.is_empty() {
            cloudwatch::tag_resource(&ctx.client, arn, &set_tags)
                .await
                .map_err(aws_err(format!("tagging CloudWatch Metric Alarm ({name})")))?;
        }
        Ok(())
    }

    async fn delete(&self, ctx: &Ctx, state: &Value) -> Result<(), ProviderError> {
        let name = req_str(state, "id")?;
        cloudwatch::delete_alarm(&ctx.client, name)
            .await
            .map_err(aws_err(format!(
                "deleting CloudWatch Metric Alarm ({name})"
            )))
    }
}
