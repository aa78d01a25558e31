using System.Text;

namespace BeijingEts.Functions.Tests.Api;

public sealed class ApiFixture : EtsAppFixture;

public sealed class ErrorAndAuthTests(ApiFixture app) : IClassFixture<ApiFixture>
{
    private static readonly object ValidYear = new { source = "test notice", holidays = new[] { "2031-01-01" }, makeupWorkdays = Array.Empty<string>() };

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private async Task AssertYearNotStoredAsync(int year)
    {
        var response = await app.Client("regulator").GetAsync($"/api/calendar/{year}", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var audit = await app.Client("regulator").GetFromJsonAsync<JsonElement>($"/api/audit?subject=calendar/{year}", TestContext.Current.CancellationToken);
        Assert.Empty(audit.GetProperty("entries").EnumerateArray());
    }

    [Theory]
    [InlineData(2031, "{\"holidays\": [\"2031-01-01\",, }", "not valid JSON")]                               // malformed JSON
    [InlineData(2032, "{\"holidays\": [20320101], \"makeupWorkdays\": []}", "$.holidays[0]")]                 // wrong type, located
    [InlineData(2033, "{\"holidays\": [\"2033-01-01\"], \"makeupWorkdays\": true}", "an array")]             // wrong type, named
    [InlineData(2034, "{\"holidays\": [], \"makeupWorkdays\": [], \"holydays\": []}", "Unknown field 'holydays'")]
    [InlineData(2035, "{\"holidays\": []}", "makeupWorkdays")]                                                  // missing field
    [InlineData(2036, "{\"holidays\": [\"2036-02-30\"], \"makeupWorkdays\": []}", "a date (yyyy-MM-dd)")]   // no such day
    [InlineData(2037, "", "JSON body")]                                                                           // no body at all
    public async Task BadBody_Gives400SayingWhatToFixAndWritesNothing(int year, string body, string detail)
    {
        var response = await app.Client("regulator").PutAsync($"/api/calendar/{year}", Json(body), TestContext.Current.CancellationToken);

        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains(detail, problem.Detail);
        await AssertYearNotStoredAsync(year);
    }

    [Fact]
    public async Task OversizedBody_Gives413()
    {
        var huge = "{\"source\": \"" + new string('x', 2 * 1024 * 1024) + "\", \"holidays\": [], \"makeupWorkdays\": []}";
        var response = await app.Client("regulator").PutAsync("/api/calendar/2038", Json(huge), TestContext.Current.CancellationToken);

        var problem = await response.AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge);
        Assert.Contains("KiB", problem.Detail);
        await AssertYearNotStoredAsync(2038);
    }

    [Fact]
    public async Task MissingToken_Gives401ThatSaysHowToGetOne()
    {
        var response = await app.Client().PutAsJsonAsync("/api/calendar/2041", ValidYear, TestContext.Current.CancellationToken);

        var problem = await response.AssertProblemAsync(HttpStatusCode.Unauthorized);
        Assert.Contains("token.sh", problem.Detail);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        await AssertYearNotStoredAsync(2041);
    }

    [Fact]
    public async Task TokenSignedWithAnotherKey_Gives401()
    {
        var client = app.Client();
        client.DefaultRequestHeaders.Authorization = new("Bearer", BeijingEts.Functions.Auth.LocalTokens.Create(new string('k', 64), "regulator"));

        var response = await client.GetAsync("/api/calendar/2026", TestContext.Current.CancellationToken);

        await response.AssertProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task ExpiredToken_Gives401ThatSaysSo()
    {
        var client = app.Client();
        var token = BeijingEts.Functions.Auth.LocalTokens.Create(app.SigningKey, "regulator", lifetime: TimeSpan.FromMinutes(5), now: DateTimeOffset.UtcNow.AddHours(-1));
        client.DefaultRequestHeaders.Authorization = new("Bearer", token);

        var response = await client.GetAsync("/api/calendar/2026", TestContext.Current.CancellationToken);

        var problem = await response.AssertProblemAsync(HttpStatusCode.Unauthorized);
        Assert.Contains("expired", problem.Detail);
    }

    [Theory]
    [InlineData("unit", "91110000600037341L")]
    [InlineData("district", "朝阳区")]
    [InlineData("exchange", null)]
    [InlineData("verifier", "91110000MA0000000X")]
    public async Task WrongRole_Gives403NamingTheRoleNeeded(string role, string? scope)
    {
        var response = await app.Client(role, scope).PutAsJsonAsync("/api/calendar/2042", ValidYear, TestContext.Current.CancellationToken);

        var problem = await response.AssertProblemAsync(HttpStatusCode.Forbidden);
        Assert.Contains("regulator", problem.Detail);
        Assert.Contains(role, problem.Detail);
        await AssertYearNotStoredAsync(2042);
    }

    [Fact]
    public async Task UnknownRoute_Gives404Problem()
    {
        var response = await app.Client("regulator").GetAsync("/api/no-such-thing", TestContext.Current.CancellationToken);

        var problem = await response.AssertProblemAsync(HttpStatusCode.NotFound);
        Assert.Contains("/api/no-such-thing", problem.Detail);
    }

    [Fact]
    public async Task WrongMethod_Gives405Problem()
    {
        var response = await app.Client("regulator").DeleteAsync("/api/calendar/2026", TestContext.Current.CancellationToken);

        await response.AssertProblemAsync(HttpStatusCode.MethodNotAllowed);
    }

    [Fact]
    public async Task BadRouteValue_Gives400()
    {
        var response = await app.Client("regulator").GetAsync("/api/calendar/days/2026-13-45", TestContext.Current.CancellationToken);

        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("yyyy-MM-dd", problem.Detail);
    }

    [Fact]
    public async Task Health_IsPublicAndReportsEachStorageService()
    {
        var response = await app.Client().GetAsync("/api/health", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var health = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        Assert.Equal("healthy", health.GetProperty("status").GetString());
        foreach (var service in new[] { "table", "blob", "queue" })
        {
            Assert.True(health.GetProperty("checks").GetProperty(service).GetProperty("reachable").GetBoolean(), service);
        }
    }

    [Fact]
    public async Task OpenApiDocument_IsServedWithoutTokenAndListsTheRoutes()
    {
        var document = await app.Client().GetFromJsonAsync<JsonElement>("/api/openapi.json", TestContext.Current.CancellationToken);

        var paths = document.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Contains("/api/health", paths);
        Assert.Contains("/api/calendar/{year}", paths);
        Assert.DoesNotContain(paths, p => p.Contains("RecordBlobArrival", StringComparison.Ordinal));
        Assert.True(document.GetProperty("components").GetProperty("securitySchemes").TryGetProperty("bearer", out _));
    }

    [Fact]
    public async Task RuntimeFunctions_ListsQueueFunctionsWithTheirQueues()
    {
        var runtime = await app.Client("regulator").GetFromJsonAsync<JsonElement>("/api/runtime/functions", TestContext.Current.CancellationToken);

        Assert.Equal("local", runtime.GetProperty("mode").GetString());
        var arrival = runtime.GetProperty("functions").EnumerateArray().Single(f => f.GetProperty("name").GetString() == "RecordBlobArrival");
        Assert.Equal("upload-events", arrival.GetProperty("queue").GetString());
    }
}
