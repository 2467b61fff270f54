"""Email with the customer from the case: reply templates (rendered by a
whitelist renderer, `render`), outgoing messages (`services.case_message_send`,
delivered after commit by `cases.tasks.deliver_message`), and replies coming
back (`inbound.inbound_email_receive`, from the inbound endpoint and
`manage.py fetch_mail`). Models are re-exported by `cases.models`."""
