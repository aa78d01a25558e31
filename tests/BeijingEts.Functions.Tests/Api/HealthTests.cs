using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace BeijingEts.Functions.Tests.Api;

/// <summary>The anonymous health check names an unreachable store but never repeats the storage error to the caller.</summary>
public sealed class HealthTests
{
    [Fact]
    public async Task UnreachableStorage_Gives503NamingEachStoreWithoutItsErrorText()
    {
        var ct = TestContext.Current.CancellationToken;
        int handlerPort = TcpPorts.Free(), deadPort = TcpPorts.Free(); // nothing listens on deadPort
        var endpoint = $"http://127.0.0.1:{deadPort}/devstoreaccount1";
        var settings = new Dictionary<string, string?>
        {
            [StorageClients.ConnectionSetting] = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;" +
                "AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;" +
                $"BlobEndpoint={endpoint};QueueEndpoint={endpoint};TableEndpoint={endpoint};",
            // As deployed: the Functions host's port and Entra ID (health takes no token, so no key is ever fetched).
            ["FUNCTIONS_CUSTOMHANDLER_PORT"] = handlerPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Auth:Authority"] = EntraTestIssuer.Issuer,
            ["Auth:Audience"] = EntraTestIssuer.Audience,
            ["Logging:LogLevel:Default"] = "None",
        };
        // Storage is unreachable from the start, so the app starts without creating its tables or its task hub first.
        await using var app = EtsApp.Build(["--environment", "Production"], settings, services =>
        {
            services.Remove(services.Single(s => s.ServiceType == typeof(IHostedService) && s.ImplementationType == typeof(StorageInitializer)));
            services.Remove(services.Single(s => s.ServiceType == typeof(IHostedService) && s.ImplementationType == typeof(BeijingEts.Functions.Hosting.Durable.DurableEngineHost)));
        });
        await app.StartAsync(ct);
        try
        {
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{handlerPort}") };

            var response = await client.GetAsync("/api/health", ct);

            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            var body = await response.Content.ReadAsStringAsync(ct);
            var health = JsonDocument.Parse(body).RootElement;
            Assert.Equal("unhealthy", health.GetProperty("status").GetString());
            foreach (var store in new[] { "table", "blob", "queue" })
            {
                var check = health.GetProperty("checks").GetProperty(store);
                Assert.False(check.GetProperty("reachable").GetBoolean(), store);
                Assert.StartsWith($"{store} storage ", check.GetProperty("error").GetString());
            }
            Assert.DoesNotContain(deadPort.ToString(System.Globalization.CultureInfo.InvariantCulture), body);
            Assert.DoesNotContain("127.0.0.1", body);
            Assert.DoesNotContain("devstoreaccount1", body);
            Assert.DoesNotContain("refused", body, StringComparison.OrdinalIgnoreCase); // the socket error's own words
        }
        finally
        {
            await app.StopAsync(CancellationToken.None);
        }
    }
}
