# The refined tables in the Glue Data Catalog. Partitions are added by the refine job at write time
# (batch_create_partition), so Athena never needs MSCK REPAIR TABLE.
# Table names, prefixes and partition keys must match b3lake.lake.layout.REFINED_TABLES (tests/infra checks it);
# columns follow docs/architecture.md ("Refined schemas").

locals {
  tables = {
    refined_quotes = {
      prefix      = "quotes"
      description = "Daily quotes per ticker with moving averages, lags and deltas."
      partition_keys = [
        { name = "dt", type = "date" },
        { name = "ticker", type = "string" },
      ]
      columns = [
        { name = "source", type = "string" },
        { name = "isin", type = "string" },
        { name = "name", type = "string" },
        { name = "open", type = "double" },
        { name = "high", type = "double" },
        { name = "low", type = "double" },
        { name = "close", type = "double" },
        { name = "avg_price", type = "double" },
        { name = "volume", type = "bigint" },
        { name = "traded_value", type = "double" },
        { name = "trades", type = "bigint" },
        { name = "ma_5", type = "double" },
        { name = "ma_7", type = "double" },
        { name = "ma_21", type = "double" },
        { name = "close_lag_1", type = "double" },
        { name = "close_lag_2", type = "double" },
        { name = "close_lag_3", type = "double" },
        { name = "close_delta", type = "double" },
        { name = "pct_change", type = "double" },
        { name = "days_since_prev_session", type = "int" },
        { name = "run_date", type = "date" },
        { name = "days_since_trade", type = "int" },
      ]
    }
    refined_monthly = {
      prefix      = "monthly"
      description = "Monthly aggregates per ticker."
      partition_keys = [
        { name = "month", type = "string" },
      ]
      columns = [
        { name = "ticker", type = "string" },
        { name = "source", type = "string" },
        { name = "sessions", type = "int" },
        { name = "total_volume", type = "bigint" },
        { name = "total_traded_value", type = "double" },
        { name = "avg_close", type = "double" },
        { name = "first_close", type = "double" },
        { name = "last_close", type = "double" },
        { name = "monthly_return", type = "double" },
        { name = "high", type = "double" },
        { name = "low", type = "double" },
      ]
    }
    refined_quotes_history = {
      prefix      = "quotes_history"
      description = "The rows of refined_quotes, one file per year sorted by ticker and dt: the table for multi-year queries."
      partition_keys = [
        { name = "year", type = "string" },
      ]
      columns = [
        { name = "dt", type = "date" },
        { name = "ticker", type = "string" },
        { name = "source", type = "string" },
        { name = "isin", type = "string" },
        { name = "name", type = "string" },
        { name = "open", type = "double" },
        { name = "high", type = "double" },
        { name = "low", type = "double" },
        { name = "close", type = "double" },
        { name = "avg_price", type = "double" },
        { name = "volume", type = "bigint" },
        { name = "traded_value", type = "double" },
        { name = "trades", type = "bigint" },
        { name = "ma_5", type = "double" },
        { name = "ma_7", type = "double" },
        { name = "ma_21", type = "double" },
        { name = "close_lag_1", type = "double" },
        { name = "close_lag_2", type = "double" },
        { name = "close_lag_3", type = "double" },
        { name = "close_delta", type = "double" },
        { name = "pct_change", type = "double" },
        { name = "days_since_prev_session", type = "int" },
        { name = "run_date", type = "date" },
        { name = "days_since_trade", type = "int" },
      ]
    }
    refined_ibov_portfolio = {
      prefix      = "ibov_portfolio"
      description = "Theoretical portfolio of the B3 indexes (IBOV) with sector and share-type weights."
      partition_keys = [
        { name = "dt", type = "date" },
      ]
      columns = [
        { name = "index", type = "string" },
        { name = "ticker", type = "string" },
        { name = "asset", type = "string" },
        { name = "sector", type = "string" },
        { name = "share_type", type = "string" },
        { name = "weight", type = "double" },
        { name = "theoretical_quantity", type = "bigint" },
        { name = "sector_weight", type = "double" },
        { name = "share_type_weight", type = "double" },
      ]
    }
  }

  database_name = var.create_database ? aws_glue_catalog_database.this[0].name : var.database_name
}

resource "aws_glue_catalog_database" "this" {
  count = var.create_database ? 1 : 0

  name        = var.database_name
  description = "b3lake refined tables."
  tags        = var.tags
}

resource "aws_glue_catalog_table" "refined" {
  for_each = var.manage_tables ? local.tables : {}

  name          = each.key
  database_name = local.database_name
  description   = each.value.description
  table_type    = "EXTERNAL_TABLE"

  parameters = {
    EXTERNAL              = "TRUE"
    classification        = "parquet"
    "parquet.compression" = "SNAPPY"
  }

  dynamic "partition_keys" {
    for_each = each.value.partition_keys
    content {
      name = partition_keys.value.name
      type = partition_keys.value.type
    }
  }

  storage_descriptor {
    location      = "s3://${var.lake_bucket_id}/${var.lake_prefix}refined/${each.value.prefix}/"
    input_format  = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
    output_format = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"

    ser_de_info {
      name                  = "parquet"
      serialization_library = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
      parameters = {
        "serialization.format" = "1"
      }
    }

    dynamic "columns" {
      for_each = each.value.columns
      content {
        name = columns.value.name
        type = columns.value.type
      }
    }
  }

  # Glue and the refine job may add table parameters (statistics, DDL timestamps); do not fight them.
  lifecycle {
    ignore_changes = [parameters]
  }
}
