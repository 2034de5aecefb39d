output "region" {
  description = "The region the functions run in (for aws --region and curl --aws-sigv4)."
  value       = data.aws_region.current.region
}

output "functions" {
  description = "Per function: ARN, architecture, deployed zip, the SHA-256 (base64) Lambda reports for it, log group, function URL (null without one)."
  value = {
    for name, f in aws_lambda_function.function : name => {
      arn          = f.arn
      architecture = f.architectures[0]
      zip          = f.filename
      code_sha256  = f.code_sha256
      log_group    = aws_cloudwatch_log_group.function[name].name
      url          = try(aws_lambda_function_url.function[name].function_url, null)
    }
  }
}
