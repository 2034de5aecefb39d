output "function_arn" {
  description = "ARN of the function (aws lambda invoke --function-name accepts it)."
  value       = aws_lambda_function.function.arn
}

output "function_name" {
  description = "Name of the function."
  value       = aws_lambda_function.function.function_name
}

output "invoke_arn" {
  description = "ARN for API Gateway integrations (apigateway:…/functions/<arn>/invocations)."
  value       = aws_lambda_function.function.invoke_arn
}

output "function_url" {
  description = "The function URL, https://<id>.lambda-url.<region>.on.aws/; null without one (url = null)."
  value       = one(aws_lambda_function_url.function[*].function_url)
}

output "role_arn" {
  description = "ARN of the function's execution role."
  value       = aws_iam_role.function.arn
}

output "role_name" {
  description = "Name of the execution role, <function_name>-role: attach the policies for what your function calls to it (aws_iam_role_policy_attachment's role)."
  value       = aws_iam_role.function.name
}

output "log_group_name" {
  description = "The function's log group, /aws/lambda/<function_name> (aws logs tail <name> --follow)."
  value       = aws_cloudwatch_log_group.function.name
}

output "code_sha256" {
  description = "Base64 SHA-256 of the deployed zip as Lambda reports it; equals filebase64sha256(filename)."
  value       = aws_lambda_function.function.code_sha256
}
