# The example deployment: this repository's bootstraps from dist/ (or result/), each through
# modules/function, the module you call for a function of your own (README.md).

provider "aws" {
  region = var.region

  default_tags {
    tags = var.tags
  }
}

data "aws_region" "current" {}

locals {
  # The zip each function deploys: the one `cargo xtask dist` (or `nix build`) names after
  # the bootstrap and the architecture, unless `zip` names another file.
  zips = {
    for name, f in var.functions :
    name => coalesce(f.zip, "${var.dist_dir}/bootstrap-${f.bootstrap}-${f.architecture}.zip")
  }
  api_zip = var.api == null ? null : coalesce(var.api.zip, "${var.dist_dir}/bootstrap-rust-api-${var.api.architecture}.zip")
}

# The echo and streaming examples, one module instance per entry of var.functions. Settings
# a function leaves unset are null here, and the module's defaults apply.
module "function" {
  source   = "./modules/function"
  for_each = var.functions

  function_name         = each.key
  filename              = local.zips[each.key]
  architecture          = each.value.architecture
  memory_size           = each.value.memory_size
  timeout               = each.value.timeout
  reserved_concurrency  = each.value.reserved_concurrency
  environment_variables = each.value.environment_variables
  tracing               = each.value.tracing
  url                   = each.value.url
  log_retention_days    = var.log_retention_days
  log_kms_key_arn       = var.log_kms_key_arn
}

# The JSON API example (GET /hello?name=..., POST /echo) behind a function URL. It answers
# with whole JSON documents, so the URL buffers the response.
module "api" {
  source = "./modules/function"
  count  = var.api == null ? 0 : 1

  function_name = var.api.function_name
  filename      = local.api_zip
  architecture  = var.api.architecture
  url = {
    authorization_type = var.api.authorization_type
    invoke_mode        = "BUFFERED"
  }
  log_retention_days = var.log_retention_days
  log_kms_key_arn    = var.log_kms_key_arn
}
