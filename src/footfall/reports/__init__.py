"""Email reports and alerts: what footfall sends without the dashboard being open.

Reports summarise a site's period (totals with change, top pages, sources and
goals, the chart) for a list of recipients; alerts watch traffic and the
server-side request events and fire once per episode. Both go out over SMTP
or a webhook, on a schedule that several processes share safely.
"""
