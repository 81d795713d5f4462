"""DefaultAzureCredential with only IDENTITY_ENDPOINT and IDENTITY_HEADER set (App Service style),
against the local vault given as argv[1]. REQUESTS_CA_BUNDLE trusts its CA."""

import sys

from azure.identity import DefaultAzureCredential
from azure.keyvault.secrets import SecretClient

credential = DefaultAzureCredential()
client = SecretClient(vault_url=sys.argv[1], credential=credential)
client.set_secret("mi-secret", "from-managed-identity")
print("value:", client.get_secret("mi-secret").value)
print("credential:", type(credential._successful_credential).__name__)
