terraform {
  # Terraform 1.6 or later, or OpenTofu (which reports 1.6 and later as well).
  required_version = ">= 1.6"

  # No provider block here: the caller configures aws (region, credentials, default_tags)
  # and the module uses it.
  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 6.28 is the first 6.x that grants a function URL with authorization NONE the
      # lambda:InvokeFunction permission AWS requires of new URLs since October 2025; 6.0
      # gave aws_region its `region` attribute, which the X-Ray statement reads.
      version = "~> 6.28"
    }
  }
}
