output "region" {
  description = "The region the functions run in (for aws --region and curl --aws-sigv4)."
  value       = data.aws_region.current.region
}

output "functions" {
  description = "Per function of var.functions: ARN, architecture, deployed zip, the SHA-256 (base64) Lambda reports for it, log group, function URL (null without one)."
  value = {
    for name, f in module.function : name => {
      arn          = f.function_arn
      architecture = var.functions[name].architecture
      zip          = local.zips[name]
      code_sha256  = f.code_sha256
      log_group    = f.log_group_name
      url          = f.function_url
    }
  }
}

output "api" {
  description = "The JSON API example, as each of functions (null with api = null): its url answers GET /hello?name=... and POST /echo."
  value = var.api == null ? null : {
    arn          = module.api[0].function_arn
    architecture = var.api.architecture
    zip          = local.api_zip
    code_sha256  = module.api[0].code_sha256
    log_group    = module.api[0].log_group_name
    url          = module.api[0].function_url
  }
}
