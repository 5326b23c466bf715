# Athena workgroup with an enforced, encrypted results location and a per-query scan limit,
# plus named queries over the refined tables.

locals {
  db = var.database_name

  named_queries = {
    latest-quotes = {
      description = "Last refined session: close, change and moving averages per ticker."
      query       = <<-SQL
        SELECT dt, ticker, close, pct_change, ma_5, ma_21, volume
        FROM "${local.db}"."refined_quotes"
        WHERE dt = (SELECT max(dt) FROM "${local.db}"."refined_quotes")
        ORDER BY traded_value DESC
        LIMIT 50
      SQL
    }
    ticker-history = {
      description = "One ticker over the last 90 days (partition pruning on dt and ticker)."
      query       = <<-SQL
        SELECT dt, open, high, low, close, ma_7, ma_21, close_delta, pct_change
        FROM "${local.db}"."refined_quotes"
        WHERE ticker = 'PETR4' AND dt >= current_date - INTERVAL '90' DAY
        ORDER BY dt
      SQL
    }
    monthly-returns = {
      description = "Best monthly returns of the latest month."
      query       = <<-SQL
        SELECT month, ticker, sessions, first_close, last_close, monthly_return, total_traded_value
        FROM "${local.db}"."refined_monthly"
        WHERE month = (SELECT max(month) FROM "${local.db}"."refined_monthly")
        ORDER BY monthly_return DESC
        LIMIT 20
      SQL
    }
    ibov-sector-weights = {
      description = "Sector weights of the latest IBOV theoretical portfolio."
      query       = <<-SQL
        SELECT sector, max(sector_weight) AS sector_weight, count(*) AS assets
        FROM "${local.db}"."refined_ibov_portfolio"
        WHERE "index" = 'IBOV' AND dt = (SELECT max(dt) FROM "${local.db}"."refined_ibov_portfolio")
        GROUP BY sector
        ORDER BY sector_weight DESC
      SQL
    }
  }
}

resource "aws_athena_workgroup" "this" {
  name          = var.workgroup_name
  description   = "b3lake: queries over the refined B3 tables."
  state         = "ENABLED"
  force_destroy = var.force_destroy

  configuration {
    enforce_workgroup_configuration    = true
    publish_cloudwatch_metrics_enabled = true
    bytes_scanned_cutoff_per_query     = var.bytes_scanned_cutoff_per_query

    result_configuration {
      output_location = "s3://${var.results_bucket_id}/results/"

      encryption_configuration {
        encryption_option = "SSE_S3"
      }
    }
  }

  # Tags are required by moto's Athena and harmless on AWS.
  tags = merge({ "b3lake:component" = "athena" }, var.tags)
}

resource "aws_athena_named_query" "this" {
  for_each = local.named_queries

  name        = "b3lake-${each.key}"
  description = each.value.description
  workgroup   = aws_athena_workgroup.this.id
  database    = var.database_name
  query       = each.value.query
}
