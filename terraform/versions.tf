terraform {
  # Terraform 1.6 or later, or OpenTofu (which reports 1.6 and later as well).
  required_version = ">= 1.6"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 6.28 is the first 6.x that grants a function URL with authorization NONE the
      # lambda:InvokeFunction permission AWS requires of new URLs since October 2025.
      version = "~> 6.28"
    }
  }
}
