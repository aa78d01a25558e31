// The web portal as static files (./scripts/publish.sh writes them to ./publish-portal) on Azure Static Web Apps.
// The pages call the function app's API with the user's Entra ID token; the browser PUTs verification documents
// straight to the data account with the signed links, so both allow the portal's origin (CORS, set in main.bicep).

param location string
param name string
param tags object

@description('Free, or Standard for a custom domain with its own certificate and an SLA.')
@allowed([
  'Free'
  'Standard'
])
param sku string = 'Free'

resource site 'Microsoft.Web/staticSites@2023-12-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: sku
    tier: sku
  }
  properties: {
    // Deployed from ./publish-portal with its deployment token, not built from a repository.
    allowConfigFileUpdates: true
    stagingEnvironmentPolicy: 'Disabled'
    publicNetworkAccess: 'Enabled'
  }
}

output name string = site.name
output url string = 'https://${site.properties.defaultHostname}'
