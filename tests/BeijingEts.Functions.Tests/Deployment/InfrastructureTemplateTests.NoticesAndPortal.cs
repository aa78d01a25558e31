using System.Text.RegularExpressions;
using BeijingEts.Functions.Notifications;
using BeijingEts.Functions.Portal;
using Microsoft.Extensions.Configuration;

namespace BeijingEts.Functions.Tests.Deployment;

/// <summary>
/// The notices' email relay, the web portal and the CORS rules that let its pages reach the API and the upload links,
/// read from what a deployment would create (<see cref="BicepSnapshot"/>), not from the template's text.
/// </summary>
public sealed partial class InfrastructureTemplateTests
{
    private const string SmtpApp = "00000000-0000-0000-0000-00000000e3a1";
    private const string CustomDomain = "https://ets.sthjj.beijing.gov.cn";

    private static Task<BicepSnapshot> WithEmailAndACustomDomainAsync() => BicepSnapshot.TakeAsync(new Dictionary<string, string>
    {
        ["smtpEntraAppId"] = $"'{SmtpApp}'",
        ["portalOrigins"] = $"['{CustomDomain}']",
    });

    [Fact]
    public async Task WithARelayApp_ADeploymentGetsTheEmailServiceItsDomainAndSender_AndTheAppSendsThroughThem()
    {
        var deployment = await WithEmailAndACustomDomainAsync();
        Assert.True(deployment.ExitCode == 0, deployment.Output);

        var service = deployment.Single("Microsoft.Communication/emailServices");
        var domain = deployment.Single("Microsoft.Communication/emailServices/domains");
        Assert.Equal($"{service["name"]}/AzureManagedDomain", domain["name"]!.GetValue<string>());
        Assert.Equal("AzureManaged", domain["properties"]!["domainManagement"]!.GetValue<string>());
        var sender = deployment.Single("Microsoft.Communication/emailServices/domains/senderUsernames");
        Assert.Equal($"{domain["name"]}/DoNotReply", sender["name"]!.GetValue<string>());
        var communication = deployment.Single("Microsoft.Communication/communicationServices");
        Assert.Equal([domain["id"]!.GetValue<string>()], BicepSnapshot.Strings(communication["properties"]!["linkedDomains"]));
        Assert.Equal(service["properties"]!["dataLocation"]!.GetValue<string>(), communication["properties"]!["dataLocation"]!.GetValue<string>());

        var settings = deployment.AppSettings();
        // ACS SMTP: the user is <communication resource>.<Entra app>.<tenant>; the password that app's secret, in the vault.
        Assert.Equal($"{communication["name"]}.{SmtpApp}.{BicepSnapshot.TenantId}", settings["Ets__Notices__Smtp__UserName"]);
        var vault = deployment.Single("Microsoft.KeyVault/vaults")["name"]!.GetValue<string>();
        Assert.Equal($"@Microsoft.KeyVault(VaultName={vault};SecretName=smtp-password)", settings["Ets__Notices__Smtp__Password"]);
        // The sender is the declared one, on the domain Azure gives the email service (known once it exists).
        var from = settings["Ets__Notices__Smtp__From"];
        Assert.StartsWith("[format('{0}@{1}', 'DoNotReply', reference('", from, StringComparison.Ordinal);
        Assert.Contains($"{domain["id"]}', ", from, StringComparison.Ordinal);
        Assert.EndsWith(".mailFromSenderDomain)]", from, StringComparison.Ordinal);

        // The app reads these settings as the relay it sends through: ACS's SMTP endpoint, STARTTLS on 587.
        var relay = NoticeSettings.From(new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Where(s => s.Key.StartsWith("Ets__Notices__", StringComparison.Ordinal))
                .Select(s => KeyValuePair.Create(s.Key.Replace("__", ":", StringComparison.Ordinal), (string?)s.Value)))
            .Build()).Smtp!;
        Assert.Equal(("smtp.azurecomm.net", 587, MailKit.Security.SecureSocketOptions.StartTls), (relay.Host, relay.Port, relay.Security));
        Assert.Equal(settings["Ets__Notices__Smtp__UserName"], relay.UserName);

        // No password, secret or key is written into a setting: every one is a vault reference.
        foreach (var (name, value) in settings.Where(s => Regex.IsMatch(s.Key, "Password|Secret|Key|ConnectionString", RegexOptions.IgnoreCase)
            && s.Key != "APPLICATIONINSIGHTS_CONNECTION_STRING"))
        {
            Assert.True(value.Contains("@Microsoft.KeyVault(", StringComparison.Ordinal), $"{name} is not a Key Vault reference: {value}");
        }
    }

    [Fact]
    public async Task WithoutARelayApp_ADeploymentHasNoEmailResources_AndTheAppNoRelay()
    {
        var deployment = await BicepSnapshot.TakeAsync(new Dictionary<string, string>());
        Assert.True(deployment.ExitCode == 0, deployment.Output);

        Assert.NotEmpty(deployment.Resources);
        Assert.DoesNotContain(deployment.Resources, r => r!["type"]!.GetValue<string>().StartsWith("Microsoft.Communication/", StringComparison.Ordinal));
        Assert.DoesNotContain(deployment.AppSettings().Keys, k => k.StartsWith("Ets__Notices__Smtp__", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ThePortal_IsAStaticWebApp_WhoseOriginAloneTheApiAndTheUploadLinksAllow()
    {
        var deployment = await WithEmailAndACustomDomainAsync();
        Assert.True(deployment.ExitCode == 0, deployment.Output);

        var site = deployment.Single("Microsoft.Web/staticSites");
        Assert.Equal("Free", site["sku"]!["name"]!.GetValue<string>());
        Assert.Equal(site["name"]!.GetValue<string>(), deployment.Outputs["PORTAL_NAME"]!.GetValue<string>());
        var portalUrl = deployment.Outputs["PORTAL_URL"]!.GetValue<string>();
        Assert.Equal($"[format('https://{{0}}', reference('{site["id"]}', '{site["apiVersion"]}').defaultHostname)]", portalUrl);

        // The API: the portal's address and the custom domain, nothing else, and no cookies (the pages send a bearer token).
        var apiCors = deployment.Single("Microsoft.Web/sites")["properties"]!["siteConfig"]!["cors"]!;
        Assert.Equal([portalUrl, CustomDomain], BicepSnapshot.Strings(apiCors["allowedOrigins"]));
        Assert.False(apiCors["supportCredentials"]!.GetValue<bool>());

        // The data account's blobs: one rule, for the same origins, allowing the upload's PUT with the headers it sends.
        var rule = Assert.Single(deployment.Single("Microsoft.Storage/storageAccounts/blobServices")["properties"]!["cors"]!["corsRules"]!.AsArray())!;
        Assert.Equal([portalUrl, CustomDomain], BicepSnapshot.Strings(rule["allowedOrigins"]));
        Assert.Equal(UploadsCors.Methods.Split(','), BicepSnapshot.Strings(rule["allowedMethods"]));
        Assert.Equal(UploadsCors.Headers.Split(','), BicepSnapshot.Strings(rule["allowedHeaders"]));
        // Local runs prove those are enough (the browser tests upload through Azurite with the same rule); and they cover
        // every header the portal's PUT sends.
        var put = Regex.Match(await File.ReadAllTextAsync(Path.Combine(Repository.Root, "portal", "js", "api.js")), @"method: ""PUT"", headers: \{(?<headers>[^}]*)\}");
        Assert.True(put.Success, "portal/js/api.js no longer PUTs with literal headers; update this test");
        var sent = Regex.Matches(put.Groups["headers"].Value, @"""(?<name>[\w-]+)"":").Select(m => m.Groups["name"].Value.ToLowerInvariant()).ToList();
        Assert.NotEmpty(sent);
        Assert.All(sent, header => Assert.Contains(header, BicepSnapshot.Strings(rule["allowedHeaders"])));
    }

    [Theory]
    [InlineData("*")]
    [InlineData("http://ets.sthjj.beijing.gov.cn")]
    public async Task AnAddedPortalOrigin_ThatIsNotExactlyAnHttpsOrigin_StopsTheDeployment(string origin)
    {
        var deployment = await BicepSnapshot.TakeAsync(new Dictionary<string, string> { ["portalOrigins"] = $"['{CustomDomain}', '{origin}']" });

        Assert.NotEqual(0, deployment.ExitCode);
        Assert.Contains($"portalOrigins: '{origin}' is not an https origin", deployment.Output, StringComparison.Ordinal);
        Assert.Empty(deployment.Resources);
    }
}
