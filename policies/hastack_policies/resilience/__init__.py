"""Modeled RTO/RPO per failure domain, computed from a stack's resources.

One model for both callers: `hastack assess` feeds it the resources of offline plans,
the `recovery-targets-met` stack policy feeds it the Analyzer's AnalyzeStack resources.
`facts` is the one table of figures (with sources and kinds); `model` the arithmetic.
"""
