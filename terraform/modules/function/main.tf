# One Lambda function from a bootstrap zip, with its own log group and execution role, and
# optionally a function URL. No provider block: the caller's aws provider (region, tags)
# applies.

data "aws_region" "current" {}

# Logs: the function's own group, with a retention, created before the function (its
# logging_config names the group), so Lambda never creates one that keeps logs forever.
resource "aws_cloudwatch_log_group" "function" {
  #checkov:skip=CKV_AWS_338:Retention is var.log_retention_days, 30 days by default for an echo that logs a few lines per invocation; set 365 or more where a policy asks for a year.
  name              = "/aws/lambda/${var.function_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.log_kms_key_arn
  tags              = var.tags
}

# Execution role: allowed to write to the function's own log group and nothing else (plus
# X-Ray segments when tracing is on).
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
  name               = "${var.function_name}-role"
  assume_role_policy = data.aws_iam_policy_document.assume_role.json
  tags               = var.tags
}

data "aws_iam_policy_document" "function" {
  # The group's streams: the provider's log group ARN has no ":*" suffix, so add it.
  statement {
    sid       = "WriteOwnLogGroup"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.function.arn}:*"]
  }

  dynamic "statement" {
    for_each = var.tracing ? [true] : []
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
  name   = "write-logs-and-traces"
  role   = aws_iam_role.function.id
  policy = data.aws_iam_policy_document.function.json
}

resource "aws_lambda_function" "function" {
  #checkov:skip=CKV_AWS_116:A DLQ only receives failed asynchronous invocations; these functions are invoked synchronously (aws lambda invoke, function URL). Add dead_letter_config and sqs:SendMessage on the role before invoking them asynchronously.
  #checkov:skip=CKV_AWS_117:The function talks only to the Lambda Runtime API, which needs no VPC; subnets, ENIs and a NAT route would add cost and cold-start time for nothing.
  #checkov:skip=CKV_AWS_272:Code signing accepts only packages signed by AWS Signer (a signing job on an S3 object); this module uploads the reproducible zip directly, pinned by source_code_hash and checkable against its SHA256SUMS.
  function_name = var.function_name
  role          = aws_iam_role.function.arn
  runtime       = "provided.al2023"
  handler       = "bootstrap"
  architectures = [var.architecture]

  # The same file twice: the plan compares its hash, so a rebuild with identical bytes
  # plans no change, and any other byte does.
  filename         = var.filename
  source_code_hash = filebase64sha256(var.filename)

  memory_size                    = var.memory_size
  timeout                        = var.timeout
  reserved_concurrent_executions = var.reserved_concurrency

  # The environment block only when there are variables: a function without any is created
  # with no environment at all.
  dynamic "environment" {
    for_each = length(var.environment_variables) > 0 ? [true] : []
    content {
      variables = var.environment_variables
    }
  }
  # null: Lambda encrypts the variables with its AWS managed key.
  kms_key_arn = var.environment_kms_key_arn

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.function.name
  }

  tracing_config {
    mode = var.tracing ? "Active" : "PassThrough"
  }

  tags = var.tags

  # Nothing references the role's inline policy: wait for it, so that the first invocation
  # may already write its logs.
  depends_on = [aws_iam_role_policy.function]
}

resource "aws_lambda_function_url" "function" {
  count = var.url == null ? 0 : 1

  function_name      = aws_lambda_function.function.function_name
  authorization_type = var.url.authorization_type
  invoke_mode        = var.url.invoke_mode

  dynamic "cors" {
    for_each = var.url.cors == null ? [] : [var.url.cors]
    content {
      allow_credentials = cors.value.allow_credentials
      allow_headers     = cors.value.allow_headers
      allow_methods     = cors.value.allow_methods
      allow_origins     = cors.value.allow_origins
      expose_headers    = cors.value.expose_headers
      max_age           = cors.value.max_age
    }
  }
}
