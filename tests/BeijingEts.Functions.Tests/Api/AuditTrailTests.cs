using BeijingEts.Functions.Audit;
using BeijingEts.Functions.Auth;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace BeijingEts.Functions.Tests.Api;

/// <summary>Endpoints that change state in each of the ways the audit-row check must tell apart, under the same filter as /api.</summary>
internal static class AuditCheckEndpoints
{
    public const string Route = "/api/audit-check";

    public static void Map(WebApplication app)
    {
        var group = app.MapGroup(Route).RequireAuditRows();
        group.MapPost("/unaudited", () => TypedResults.Ok(new { changed = true }));
        group.MapPut("/unaudited-created", Results<Created<string>, ProblemHttpResult> () => TypedResults.Created("/x", "made"));
        group.MapDelete("/unaudited-plain", () => "removed");
        group.MapPost("/audited", async (HttpContext http, AuditLog audit, CancellationToken ct) =>
        {
            await audit.RecordAsync(Actor.From(http.User), "test.changed", "audit-check/audited", null, new { changed = true }, ct);
            return TypedResults.Ok();
        });
        group.MapPost("/audited-twice-at-once", async (HttpContext http, AuditLog audit, CancellationToken ct) =>
        {
            await Task.WhenAll(
                audit.RecordAsync(Actor.From(http.User), "test.changed", "audit-check/one", null, null, ct),
                audit.RecordAsync(Actor.From(http.User), "test.changed", "audit-check/two", null, null, ct));
            return TypedResults.Ok();
        });
        group.MapPost("/replayed", (HttpContext http) =>
        {
            AuditLog.MarkReplayed(http);
            return TypedResults.Ok();
        });
        group.MapPost("/refused", () => TypedResults.Problem(statusCode: 422, detail: "nothing changed"));
        group.MapPost("/exempt", () => TypedResults.Ok()).NotAudited("a test endpoint that changes nothing");
        group.MapGet("/read", () => TypedResults.Ok());
    }
}

public sealed class AuditCheckFixture : EtsAppFixture
{
    protected override void MapEndpoints(WebApplication app) => AuditCheckEndpoints.Map(app);
}

public sealed class AuditTrailTests(AuditCheckFixture app) : IClassFixture<AuditCheckFixture>
{
    private AuditGaps Gaps => app.Service<AuditGaps>();

    private HttpClient Regulator(string name)
    {
        var client = app.Client();
        client.DefaultRequestHeaders.Authorization = new("Bearer", LocalTokens.Create(app.SigningKey, "regulator", name));
        return client;
    }

    private static object Year(int year) => new { source = "test notice", holidays = new[] { $"{year}-01-01" }, makeupWorkdays = Array.Empty<string>() };

    [Fact]
    public async Task TrailByActor_ListsWhatThatPersonDidAndNothingOfOthers()
    {
        var ct = TestContext.Current.CancellationToken;
        (await Regulator("alice").PutAsJsonAsync("/api/calendar/2071", Year(2071), ct)).EnsureSuccessStatusCode();
        (await Regulator("bob").PutAsJsonAsync("/api/calendar/2072", Year(2072), ct)).EnsureSuccessStatusCode();
        (await Regulator("alice").PutAsJsonAsync("/api/calendar/2073", Year(2073), ct)).EnsureSuccessStatusCode();

        var trail = await app.Client("regulator").GetFromJsonAsync<JsonElement>("/api/audit?actor=local:regulator:alice", ct);

        var entries = trail.GetProperty("entries").EnumerateArray().ToList();
        Assert.All(entries, e => Assert.Equal("local:regulator:alice", e.GetProperty("actor").GetString()));
        Assert.Equal(["calendar/2073", "calendar/2071"], entries.Select(e => e.GetProperty("subject").GetString()));
        var bySubject = await app.Client("regulator").GetFromJsonAsync<JsonElement>("/api/audit?subject=calendar/2072", ct);
        Assert.Equal("local:regulator:bob", Assert.Single(bySubject.GetProperty("entries").EnumerateArray()).GetProperty("actor").GetString());
    }

    [Theory]
    [InlineData("/api/audit")]
    [InlineData("/api/audit?subject=calendar/2071&actor=local:regulator:alice")]
    public async Task TrailWithNeitherOrBothOfSubjectAndActor_Gives400(string url)
    {
        var response = await app.Client("regulator").GetAsync(url, TestContext.Current.CancellationToken);

        await response.AssertProblemAsync(HttpStatusCode.BadRequest, "?actor=");
    }

    [Theory]
    [InlineData("subject")]
    [InlineData("actor")]
    public async Task TrailWithAnOverlongKey_Gives400(string key)
    {
        var response = await app.Client("regulator").GetAsync($"/api/audit?{key}={Uri.EscapeDataString(new string('区', 200))}", TestContext.Current.CancellationToken);

        await response.AssertProblemAsync(HttpStatusCode.BadRequest, "too long");
    }

    [Fact]
    public async Task TrailByActor_IsForRegulators()
    {
        var response = await app.Client("unit", "91110000600037341L").GetAsync("/api/audit?actor=local:regulator:alice", TestContext.Current.CancellationToken);

        await response.AssertProblemAsync(HttpStatusCode.Forbidden);
    }

    [Theory]
    [InlineData("POST", "/unaudited")]
    [InlineData("PUT", "/unaudited-created")]
    [InlineData("DELETE", "/unaudited-plain")]
    public async Task ChangeAnswered2xxWithoutAnAuditRow_IsA500InDevelopmentAndNoted(string method, string path)
    {
        var response = await app.Client("regulator").SendAsync(new HttpRequestMessage(new HttpMethod(method), AuditCheckEndpoints.Route + path), TestContext.Current.CancellationToken);

        await response.AssertProblemAsync(HttpStatusCode.InternalServerError, "audit row");
        Assert.Equal([$"{method} {AuditCheckEndpoints.Route}{path}"], Gaps.TakeAll());
    }

    [Theory]
    [InlineData("POST", "/audited", HttpStatusCode.OK)]
    [InlineData("POST", "/audited-twice-at-once", HttpStatusCode.OK)]
    [InlineData("POST", "/replayed", HttpStatusCode.OK)]
    [InlineData("POST", "/exempt", HttpStatusCode.OK)]
    [InlineData("POST", "/refused", HttpStatusCode.UnprocessableEntity)]
    [InlineData("GET", "/read", HttpStatusCode.OK)]
    public async Task AuditedReplayedExemptRefusedOrRead_PassesUntouched(string method, string path, HttpStatusCode expected)
    {
        var response = await app.Client("regulator").SendAsync(new HttpRequestMessage(new HttpMethod(method), AuditCheckEndpoints.Route + path), TestContext.Current.CancellationToken);

        Assert.Equal(expected, response.StatusCode);
        Assert.Empty(Gaps.Requests);
    }

    [Fact]
    public async Task AuditedChange_IsInTheTrailOfItsSubjectAndItsActor()
    {
        var ct = TestContext.Current.CancellationToken;
        (await Regulator("carol").PostAsync(AuditCheckEndpoints.Route + "/audited", null, ct)).EnsureSuccessStatusCode();

        var bySubject = await app.Client("regulator").GetFromJsonAsync<JsonElement>("/api/audit?subject=audit-check/audited", ct);
        var byActor = await app.Client("regulator").GetFromJsonAsync<JsonElement>("/api/audit?actor=local:regulator:carol", ct);

        var id = Assert.Single(byActor.GetProperty("entries").EnumerateArray()).GetProperty("id").GetString();
        Assert.Contains(bySubject.GetProperty("entries").EnumerateArray(), e => e.GetProperty("id").GetString() == id);
    }

    [Fact]
    public async Task AnImageTooLargeForItsRow_IsStoredOnce_AndTheRecordComesBackWhole_WithoutReadingItBack()
    {
        var ct = TestContext.Current.CancellationToken;
        var audit = app.Service<AuditLog>();
        var lines = Enumerable.Range(0, 2000).Select(i => $"line {i:D4} of a long image").ToList(); // about 60,000 characters of JSON

        var (record, requests) = await StorageRequestCount.OfAsync(() =>
            audit.RecordAsync(new Actor("test:audit-large", "regulator", null), "test.large", "audit-check/large", null, new { lines }, ct));

        Assert.Equal(3, requests); // the image's blob and the two rows; the blob is not downloaded again
        Assert.Equal(2000, record.After!.Value.GetProperty("lines").GetArrayLength());
        var stored = Assert.Single(await audit.ReadAsync("audit-check/large", 10, ct));
        Assert.Equal(record.Id, stored.Id);
        Assert.Equal(record.After!.Value.GetRawText(), stored.After!.Value.GetRawText());
    }
}

/// <summary>In production a missing audit row is logged and noted, and the caller still gets the answer of what was done.</summary>
public sealed class ProductionAuditCheckFixture : EtsAppFixture
{
    public EntraTestIssuer Entra { get; } = new();

    protected override string EnvironmentName => "Production";

    protected override IDictionary<string, string?> Settings => Entra.Settings;

    protected override void ConfigureServices(IServiceCollection services) => Entra.Configure(services);

    protected override void MapEndpoints(WebApplication app) => AuditCheckEndpoints.Map(app);

    public override string Token(string role, string? scope = null) => Entra.Create(role, scope);
}

public sealed class ProductionAuditCheckTests(ProductionAuditCheckFixture app) : IClassFixture<ProductionAuditCheckFixture>
{
    [Fact]
    public async Task ChangeWithoutAnAuditRow_AnswersAsTheHandlerDidAndIsNoted()
    {
        var response = await app.Client("regulator").PostAsync(AuditCheckEndpoints.Route + "/unaudited", null, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal([$"POST {AuditCheckEndpoints.Route}/unaudited"], app.Service<AuditGaps>().TakeAll());
    }
}
