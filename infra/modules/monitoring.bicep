// Log Analytics + workspace-based Application Insights. The app's OpenTelemetry exporter
// (Azure.Monitor.OpenTelemetry.Exporter) and the Functions host both send to it through
// APPLICATIONINSIGHTS_CONNECTION_STRING.

param location string
param workspaceName string
param appInsightsName string

@description('Days logs are kept in Log Analytics.')
@minValue(30)
param retentionDays int

param tags object

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: workspaceName
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: retentionDays
    features: {
      enableLogAccessUsingOnlyResourcePermissions: true
    }
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: appInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    IngestionMode: 'LogAnalytics'
  }
}

output appInsightsName string = appInsights.name
output workspaceId string = workspace.id
