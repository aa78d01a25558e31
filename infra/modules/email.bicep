// The notices' email relay: Azure Communication Services Email with an Azure-managed sender domain, reached over
// SMTP (smtp.azurecomm.net:587, STARTTLS). The SMTP user is an Entra application given the Communication and Email
// Service Owner role on the communication resource; its client secret is a Key Vault secret (infra/README.md).

@description('Communication resources are global; their data location below is what decides where data is kept.')
var location = 'global'

param tags object

@description('Where Communication Services keeps its data.')
param dataLocation string

param emailServiceName string
param communicationServiceName string

resource emailService 'Microsoft.Communication/emailServices@2023-04-01' = {
  name: emailServiceName
  location: location
  tags: tags
  properties: {
    dataLocation: dataLocation
  }
}

// A managed domain (xxxx.azurecomm.net) works at once; a ministry's own domain replaces it once verified (README).
resource domain 'Microsoft.Communication/emailServices/domains@2023-04-01' = {
  parent: emailService
  name: 'AzureManagedDomain'
  location: location
  tags: tags
  properties: {
    domainManagement: 'AzureManaged'
    userEngagementTracking: 'Disabled'
  }
}

// The sender the app writes from (Ets__Notices__Smtp__From), with the platform's name as its display name. A managed
// domain has DoNotReply already; declaring it keeps the address the app is given and the one the domain sends as one.
resource sender 'Microsoft.Communication/emailServices/domains/senderUsernames@2023-04-01' = {
  parent: domain
  name: 'DoNotReply'
  properties: {
    username: 'DoNotReply'
    displayName: '北京市碳排放权交易管理平台'
  }
}

resource communication 'Microsoft.Communication/communicationServices@2023-04-01' = {
  name: communicationServiceName
  location: location
  tags: tags
  properties: {
    dataLocation: dataLocation
    linkedDomains: [
      domain.id
    ]
  }
}

output communicationServiceName string = communication.name
output communicationServiceId string = communication.id
output senderAddress string = '${sender.name}@${domain.properties.mailFromSenderDomain}'
