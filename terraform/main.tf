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
  urls = { for name, f in var.functions : name => f.url if f.url != null }
}

# Logs: one group per function, with a retention, created before the function (its
# logging_config names the group), so Lambda never creates one that keeps logs forever.
resource "aws_cloudwatch_log_group" "function" {
  #checkov:skip=CKV_AWS_338:Retention is var.log_retention_days, 30 days by default for an echo that logs a few lines per invocation; set 365 or more where a policy asks for a year.
  for_each = var.functions

  name              = "/aws/lambda/${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.log_kms_key_arn
}

# Execution role: one per function, allowed to write to its own log group and nothing else
# (plus X-Ray segments when tracing is on).
data "aws_iam_policy_document" "assume_role" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "function" {
  for_each = var.functions

  name               = "${each.key}-role"
  assume_role_policy = data.aws_iam_policy_document.assume_role.json
}

data "aws_iam_policy_document" "function" {
  for_each = var.functions

  # The group's streams: the provider's log group ARN has no ":*" suffix, so add it.
  statement {
    sid       = "WriteOwnLogGroup"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.function[each.key].arn}:*"]
  }

  dynamic "statement" {
    for_each = each.value.tracing ? [true] : []
    # X-Ray has no resource-level permissions for these two actions: "*" is the only
    # resource they accept. The condition keeps them to the function's own region.
    content {
      sid       = "WriteXRaySegments"
      actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
      resources = ["*"]

      condition {
        test     = "StringEquals"
        variable = "aws:RequestedRegion"
        values   = [data.aws_region.current.region]
      }
    }
  }
}

resource "aws_iam_role_policy" "function" {
  for_each = var.functions

  name   = "write-logs-and-traces"
  role   = aws_iam_role.function[each.key].id
  policy = data.aws_iam_policy_document.function[each.key].json
}

resource "aws_lambda_function" "function" {
  #checkov:skip=CKV_AWS_116:A DLQ only receives failed asynchronous invocations; these functions are invoked synchronously (aws lambda invoke, function URL). Add dead_letter_config and sqs:SendMessage on the role before invoking them asynchronously.
  #checkov:skip=CKV_AWS_117:The function talks only to the Lambda Runtime API, which needs no VPC; subnets, ENIs and a NAT route would add cost and cold-start time for nothing.
  #checkov:skip=CKV_AWS_272:Code signing accepts only packages signed by AWS Signer (a signing job on an S3 object); this stack uploads the reproducible zip directly, pinned by source_code_hash and checkable against dist/SHA256SUMS.
  for_each = var.functions

  function_name = each.key
  role          = aws_iam_role.function[each.key].arn
  runtime       = "provided.al2023"
  handler       = "bootstrap"
  architectures = [each.value.architecture]

  # The same file twice: the plan compares its hash, so a rebuild with identical bytes
  # plans no change, and any other byte does.
  filename         = local.zips[each.key]
  source_code_hash = filebase64sha256(local.zips[each.key])

  memory_size                    = each.value.memory_size
  timeout                        = each.value.timeout
  reserved_concurrent_executions = each.value.reserved_concurrency

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.function[each.key].name
  }

  tracing_config {
    mode = each.value.tracing ? "Active" : "PassThrough"
  }

  # Nothing references the role's inline policy: wait for it, so that the first invocation
  # may already write its logs.
  depends_on = [aws_iam_role_policy.function]
}

resource "aws_lambda_function_url" "function" {
  for_each = local.urls

  function_name      = aws_lambda_function.function[each.key].function_name
  authorization_type = each.value.authorization_type
  invoke_mode        = each.value.invoke_mode
}
