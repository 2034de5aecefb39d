variable "region" {
  description = "AWS region to deploy to. null: the AWS_REGION environment variable or the profile's region."
  type        = string
  default     = null
}

variable "dist_dir" {
  description = "Directory holding the bootstrap zips, relative to the directory terraform runs in: \"../dist\" (cargo xtask dist) or \"../result\" (nix build)."
  type        = string
  default     = "../dist"
}

variable "functions" {
  description = <<-EOT
    The echo and streaming examples to deploy, by function name. Each deploys
    <dist_dir>/bootstrap-<bootstrap>-<architecture>.zip (bootstrap: rust, c, rust-stream,
    c-stream or rust-api) unless `zip` names another file. The other attributes are the
    module's inputs of the same name (modules/function/variables.tf); unset, the module's
    defaults apply. `url = {}` adds a function URL (AWS_IAM, BUFFERED); null, the default,
    adds none.
  EOT
  type = map(object({
    bootstrap             = optional(string, "rust")
    architecture          = optional(string, "x86_64")
    zip                   = optional(string)
    memory_size           = optional(number)
    timeout               = optional(number)
    reserved_concurrency  = optional(number)
    environment_variables = optional(map(string))
    tracing               = optional(bool)
    url = optional(object({
      authorization_type = optional(string)
      invoke_mode        = optional(string)
    }))
  }))
  default = {
    lambda-libc-echo = {}
  }

  # The rest (name, architecture, memory, timeout...) is validated by the module.
  validation {
    condition     = alltrue([for f in values(var.functions) : contains(["rust", "c", "rust-stream", "c-stream", "rust-api"], f.bootstrap)])
    error_message = "bootstrap must be rust, c, rust-stream, c-stream or rust-api (or set zip)."
  }
}

variable "api" {
  description = <<-EOT
    The JSON API example, <dist_dir>/bootstrap-rust-api-<architecture>.zip unless `zip`
    names another file, behind a function URL with BUFFERED responses. authorization_type
    null is the module's default, AWS_IAM (SigV4-signed requests); "NONE" makes the URL
    public. null instead of the object: not deployed.
  EOT
  type = object({
    function_name      = optional(string, "lambda-libc-api")
    architecture       = optional(string, "x86_64")
    zip                = optional(string)
    authorization_type = optional(string)
  })
  default = {}
}

variable "log_retention_days" {
  description = "Days CloudWatch Logs keeps each function's logs. null: the module's default, 30. The module validates the value."
  type        = number
  default     = null
}

variable "log_kms_key_arn" {
  description = "KMS key ARN to encrypt the log groups with (its key policy must allow logs.<region>.amazonaws.com). null: CloudWatch Logs' own encryption."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags for every resource (the provider's default_tags)."
  type        = map(string)
  default = {
    project = "aws-lambda-libc"
  }
}
