using System.Text.Json.Nodes;

namespace BeijingEts.Functions.Tests.Portal;

/// <summary>The portal as the static site publish.sh writes for Azure: Entra ID sign-in, the API's address, the app's headers.</summary>
public sealed class StaticSitePortalTests
{
    [Fact]
    public async Task TheStaticSite_SignsInWithEntra_CallsTheApiItIsGiven_AndSendsTheAppsHeaders()
    {
        var ct = TestContext.Current.CancellationToken;
        var output = Path.Combine(Directory.CreateTempSubdirectory("portal-site-").FullName, "site");
        try
        {
            var (exit, _, stderr) = await Repository.RunAsync("bash", ["-c", "source scripts/lib.sh && assemble_portal \"$0\"", output], new Dictionary<string, string>
            {
                ["PORTAL_API_URL"] = "https://func-ets-x.azurewebsites.net/api/",
                ["PORTAL_CLIENT_ID"] = "11111111-2222-3333-4444-555555555555",
                ["PORTAL_AUTHORITY"] = "https://login.microsoftonline.com/00000000-0000-0000-0000-0000000000e7",
                ["PORTAL_SCOPE"] = "api://beijing-ets/.default",
                ["PORTAL_STORAGE_URL"] = "https://stetsx.blob.core.windows.net",
            }, TimeSpan.FromMinutes(5));

            Assert.True(exit == 0, stderr);
            var config = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(output, "config.json"), ct))!;
            Assert.Equal("entra", config["mode"]!.GetValue<string>());
            Assert.Equal("https://func-ets-x.azurewebsites.net/api", config["api"]!.GetValue<string>());
            Assert.Equal("api://beijing-ets/.default", config["entra"]!["scope"]!.GetValue<string>());
            var site = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(output, "staticwebapp.config.json"), ct))!;
            var csp = site["globalHeaders"]!["Content-Security-Policy"]!.GetValue<string>();
            Assert.Contains("script-src 'self';", csp);
            Assert.Contains("connect-src 'self' https://func-ets-x.azurewebsites.net https://stetsx.blob.core.windows.net https://login.microsoftonline.com;", csp);
            Assert.Contains(site["routes"]!.AsArray(), r => r!["route"]!.GetValue<string>() == "/dev/*" && r["statusCode"]!.GetValue<int>() == 404);
            Assert.True(File.Exists(Path.Combine(output, "vendor", "echarts.min.js")));
            Assert.True(File.Exists(Path.Combine(output, "vendor", "msal-browser.min.js")));
            Assert.True(File.Exists(Path.Combine(output, "js", "app.js")));
            // Only what a browser loads: no npm files, no tools.
            Assert.False(Directory.Exists(Path.Combine(output, "node_modules")));
            Assert.False(Directory.Exists(Path.Combine(output, "tools")));
            Assert.False(File.Exists(Path.Combine(output, "package.json")));
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(output)!, recursive: true);
        }
    }
}
