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
    The functions to deploy, by function name. Each deploys
    <dist_dir>/bootstrap-<bootstrap>-<architecture>.zip (bootstrap: rust, c, rust-stream or
    c-stream) unless `zip` names another file. reserved_concurrency -1 leaves the function in
    the account's unreserved pool. `url = {}` adds a function URL (AWS_IAM, BUFFERED); null,
    the default, adds none.
  EOT
  type = map(object({
    bootstrap            = optional(string, "rust")
    architecture         = optional(string, "x86_64")
    zip                  = optional(string)
    memory_size          = optional(number, 128)
    timeout              = optional(number, 3)
    reserved_concurrency = optional(number, -1)
    tracing              = optional(bool, false)
    url = optional(object({
      authorization_type = optional(string, "AWS_IAM")
      invoke_mode        = optional(string, "BUFFERED")
    }))
  }))
  default = {
    lambda-libc-echo = {}
  }

  validation {
    # The IAM role is named "<function name>-role" and role names end at 64 characters.
    condition     = alltrue([for name in keys(var.functions) : can(regex("^[A-Za-z0-9_-]{1,59}$", name))])
    error_message = "Function names: 1 to 59 characters from A-Z, a-z, 0-9, - and _."
  }
  validation {
    condition     = alltrue([for f in values(var.functions) : contains(["rust", "c", "rust-stream", "c-stream"], f.bootstrap)])
    error_message = "bootstrap must be rust, c, rust-stream or c-stream (or set zip)."
  }
  validation {
    condition     = alltrue([for f in values(var.functions) : contains(["x86_64", "arm64"], f.architecture)])
    error_message = "architecture must be x86_64 or arm64."
  }
  validation {
    condition     = alltrue([for f in values(var.functions) : f.memory_size >= 128 && f.memory_size <= 10240 && floor(f.memory_size) == f.memory_size])
    error_message = "memory_size is a whole number of MB from 128 to 10240."
  }
  validation {
    condition     = alltrue([for f in values(var.functions) : f.timeout >= 1 && f.timeout <= 900 && floor(f.timeout) == f.timeout])
    error_message = "timeout is a whole number of seconds from 1 to 900."
  }
  validation {
    condition     = alltrue([for f in values(var.functions) : f.reserved_concurrency >= -1 && floor(f.reserved_concurrency) == f.reserved_concurrency])
    error_message = "reserved_concurrency is -1 (unreserved) or a whole number of executions, 0 or more."
  }
  validation {
    condition     = alltrue([for f in values(var.functions) : contains(["AWS_IAM", "NONE"], f.url.authorization_type) if f.url != null])
    error_message = "url.authorization_type must be AWS_IAM or NONE."
  }
  validation {
    condition     = alltrue([for f in values(var.functions) : contains(["BUFFERED", "RESPONSE_STREAM"], f.url.invoke_mode) if f.url != null])
    error_message = "url.invoke_mode must be BUFFERED or RESPONSE_STREAM."
  }
}

variable "log_retention_days" {
  description = "Days CloudWatch Logs keeps each function's logs."
  type        = number
  default     = 30

  validation {
    # The values CloudWatch Logs accepts, without 0 (never expire).
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
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
