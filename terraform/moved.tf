# State addresses of the layout before modules/function (every resource at the root, keyed by
# function name) and their addresses now, for the functions of the defaults and of
# example.tfvars: an apply over a deployment of the old layout moves them, where it would
# otherwise delete and recreate each function, role and log group (with its logs). Moves of
# addresses absent from the state do nothing. Another name: add its five blocks, or run
# terraform state mv for each resource once.

moved {
  from = aws_cloudwatch_log_group.function["lambda-libc-echo"]
  to   = module.function["lambda-libc-echo"].aws_cloudwatch_log_group.function
}

moved {
  from = aws_iam_role.function["lambda-libc-echo"]
  to   = module.function["lambda-libc-echo"].aws_iam_role.function
}

moved {
  from = aws_iam_role_policy.function["lambda-libc-echo"]
  to   = module.function["lambda-libc-echo"].aws_iam_role_policy.function
}

moved {
  from = aws_lambda_function.function["lambda-libc-echo"]
  to   = module.function["lambda-libc-echo"].aws_lambda_function.function
}

moved {
  from = aws_cloudwatch_log_group.function["lambda-libc-echo-arm64"]
  to   = module.function["lambda-libc-echo-arm64"].aws_cloudwatch_log_group.function
}

moved {
  from = aws_iam_role.function["lambda-libc-echo-arm64"]
  to   = module.function["lambda-libc-echo-arm64"].aws_iam_role.function
}

moved {
  from = aws_iam_role_policy.function["lambda-libc-echo-arm64"]
  to   = module.function["lambda-libc-echo-arm64"].aws_iam_role_policy.function
}

moved {
  from = aws_lambda_function.function["lambda-libc-echo-arm64"]
  to   = module.function["lambda-libc-echo-arm64"].aws_lambda_function.function
}

moved {
  from = aws_cloudwatch_log_group.function["lambda-libc-c-echo"]
  to   = module.function["lambda-libc-c-echo"].aws_cloudwatch_log_group.function
}

moved {
  from = aws_iam_role.function["lambda-libc-c-echo"]
  to   = module.function["lambda-libc-c-echo"].aws_iam_role.function
}

moved {
  from = aws_iam_role_policy.function["lambda-libc-c-echo"]
  to   = module.function["lambda-libc-c-echo"].aws_iam_role_policy.function
}

moved {
  from = aws_lambda_function.function["lambda-libc-c-echo"]
  to   = module.function["lambda-libc-c-echo"].aws_lambda_function.function
}

moved {
  from = aws_lambda_function_url.function["lambda-libc-c-echo"]
  to   = module.function["lambda-libc-c-echo"].aws_lambda_function_url.function[0]
}

moved {
  from = aws_cloudwatch_log_group.function["lambda-libc-stream"]
  to   = module.function["lambda-libc-stream"].aws_cloudwatch_log_group.function
}

moved {
  from = aws_iam_role.function["lambda-libc-stream"]
  to   = module.function["lambda-libc-stream"].aws_iam_role.function
}

moved {
  from = aws_iam_role_policy.function["lambda-libc-stream"]
  to   = module.function["lambda-libc-stream"].aws_iam_role_policy.function
}

moved {
  from = aws_lambda_function.function["lambda-libc-stream"]
  to   = module.function["lambda-libc-stream"].aws_lambda_function.function
}

moved {
  from = aws_lambda_function_url.function["lambda-libc-stream"]
  to   = module.function["lambda-libc-stream"].aws_lambda_function_url.function[0]
}
