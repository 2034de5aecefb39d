# Each variable that has a default is `nullable = false`: a caller that passes null (an
# unset optional attribute of its own, say) gets the default, so the defaults live here only.

variable "filename" {
  description = "Path of the bootstrap zip to deploy: target/lambda/bootstrap-<arch>.zip (cargo lambda-libc build), result/bootstrap-<arch>.zip (nix build) or dist/bootstrap-<example>-<arch>.zip (cargo xtask dist). A relative path is relative to the directory terraform runs in."
  type        = string

  validation {
    # Lambda takes a .zip here; the file itself is read at plan time by filebase64sha256.
    condition     = can(regex("\\.zip$", var.filename))
    error_message = "filename must name a .zip file (the zip of the bootstrap, not the bootstrap itself)."
  }
}

variable "function_name" {
  description = "The Lambda function's name. Also names its log group, /aws/lambda/<function_name>, and its role, <function_name>-role."
  type        = string

  validation {
    # The role is named "<function_name>-role", and role names end at 64 characters.
    condition     = can(regex("^[A-Za-z0-9_-]{1,59}$", var.function_name))
    error_message = "function_name: 1 to 59 characters from A-Z, a-z, 0-9, - and _."
  }
}

variable "architecture" {
  description = "The instruction set the zip was built for: x86_64 or arm64 (Graviton). It must match the zip: Lambda does not look inside it, and a bootstrap for the other one fails when Lambda starts it."
  type        = string
  default     = "x86_64"
  nullable    = false

  validation {
    condition     = contains(["x86_64", "arm64"], var.architecture)
    error_message = "architecture must be x86_64 or arm64."
  }
}

variable "memory_size" {
  description = "Memory in MB, 128 to 10240; Lambda allots CPU in proportion to it."
  type        = number
  default     = 128
  nullable    = false

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240 && floor(var.memory_size) == var.memory_size
    error_message = "memory_size is a whole number of MB from 128 to 10240."
  }
}

variable "timeout" {
  description = "Seconds an invocation may run, 1 to 900."
  type        = number
  default     = 3
  nullable    = false

  validation {
    condition     = var.timeout >= 1 && var.timeout <= 900 && floor(var.timeout) == var.timeout
    error_message = "timeout is a whole number of seconds from 1 to 900."
  }
}

variable "reserved_concurrency" {
  description = "Concurrent executions reserved for (and capping) the function. -1: none, the function shares the account's unreserved pool; 0: the function is throttled, it never runs."
  type        = number
  default     = -1
  nullable    = false

  validation {
    condition     = var.reserved_concurrency >= -1 && floor(var.reserved_concurrency) == var.reserved_concurrency
    error_message = "reserved_concurrency is -1 (unreserved) or a whole number of executions, 0 or more."
  }
}

variable "environment_variables" {
  description = "Environment variables of the function. Keys: a letter, then letters, digits and _ (2 characters at least), none of the keys Lambda reserves. Lambda refuses more than 4 KB in all."
  type        = map(string)
  default     = {}
  nullable    = false

  validation {
    # The key pattern of Lambda's Environment type.
    condition     = alltrue([for key in keys(var.environment_variables) : can(regex("^[a-zA-Z][a-zA-Z0-9_]+$", key))])
    error_message = "environment_variables: each key is a letter followed by one or more letters, digits or _."
  }
  validation {
    # The reserved keys of the Lambda developer guide ("Defined runtime environment
    # variables"), less _HANDLER and _X_AMZN_TRACE_ID, which the key pattern already refuses.
    condition = length(setintersection(keys(var.environment_variables), [
      "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_DEFAULT_REGION", "AWS_EXECUTION_ENV",
      "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION",
      "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
      "AWS_LAMBDA_RUNTIME_API", "AWS_REGION", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
      "LAMBDA_RUNTIME_DIR", "LAMBDA_TASK_ROOT",
    ])) == 0
    error_message = "environment_variables: AWS_REGION, AWS_LAMBDA_RUNTIME_API and the other keys Lambda sets itself are reserved."
  }
}

variable "environment_kms_key_arn" {
  description = "ARN of a KMS key to encrypt the environment variables with. null: Lambda's AWS managed key."
  type        = string
  default     = null

  validation {
    condition     = var.environment_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.environment_kms_key_arn))
    error_message = "environment_kms_key_arn is null or a KMS key ARN, arn:<partition>:kms:<region>:<account>:key/<key id>."
  }
}

variable "log_retention_days" {
  description = "Days CloudWatch Logs keeps the function's logs."
  type        = number
  default     = 30
  nullable    = false

  validation {
    # The values CloudWatch Logs accepts, without 0 (never expire).
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "log_kms_key_arn" {
  description = "ARN of a KMS key to encrypt the log group with (its key policy must allow logs.<region>.amazonaws.com). null: CloudWatch Logs' own encryption."
  type        = string
  default     = null

  validation {
    condition     = var.log_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.log_kms_key_arn))
    error_message = "log_kms_key_arn is null or a KMS key ARN, arn:<partition>:kms:<region>:<account>:key/<key id>."
  }
}

variable "tracing" {
  description = "X-Ray active tracing. true also allows the role xray:PutTraceSegments and xray:PutTelemetryRecords, in the function's region."
  type        = bool
  default     = false
  nullable    = false
}

variable "url" {
  description = <<-EOT
    A function URL. null (the default): none. {} gives one with the defaults:
    authorization_type AWS_IAM (SigV4-signed requests; NONE makes it public) and invoke_mode
    BUFFERED (RESPONSE_STREAM for the streaming bootstraps). cors: the CORS settings of
    Lambda's Cors type, for browsers calling the URL from another origin; null, none.
  EOT
  type = object({
    authorization_type = optional(string, "AWS_IAM")
    invoke_mode        = optional(string, "BUFFERED")
    cors = optional(object({
      allow_origins     = optional(list(string))
      allow_methods     = optional(list(string))
      allow_headers     = optional(list(string))
      expose_headers    = optional(list(string))
      allow_credentials = optional(bool, false)
      max_age           = optional(number, 0)
    }))
  })
  default = null

  # Each condition holds for null, which has none of these attributes: a conditional
  # expression evaluates only the branch it takes, where || does not short-circuit in every
  # Terraform version this module supports.
  validation {
    condition     = var.url == null ? true : contains(["AWS_IAM", "NONE"], var.url.authorization_type)
    error_message = "url.authorization_type must be AWS_IAM or NONE."
  }
  validation {
    condition     = var.url == null ? true : contains(["BUFFERED", "RESPONSE_STREAM"], var.url.invoke_mode)
    error_message = "url.invoke_mode must be BUFFERED or RESPONSE_STREAM."
  }
  validation {
    condition     = var.url == null ? true : var.url.cors == null ? true : var.url.cors.allow_methods == null ? true : alltrue([for m in var.url.cors.allow_methods : contains(["GET", "PUT", "HEAD", "POST", "PATCH", "DELETE", "*"], m)])
    error_message = "url.cors.allow_methods: GET, PUT, HEAD, POST, PATCH, DELETE or *."
  }
  validation {
    condition     = var.url == null ? true : var.url.cors == null ? true : var.url.cors.max_age >= 0 && var.url.cors.max_age <= 86400 && floor(var.url.cors.max_age) == var.url.cors.max_age
    error_message = "url.cors.max_age is a whole number of seconds from 0 to 86400."
  }
}

variable "tags" {
  description = "Tags for the log group, the role and the function, on top of the provider's default_tags."
  type        = map(string)
  default     = {}
  nullable    = false
}
