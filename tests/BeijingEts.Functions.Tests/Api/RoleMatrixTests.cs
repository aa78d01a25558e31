using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Tests.Lists;

namespace BeijingEts.Functions.Tests.Api;

/// <summary>The app with one registered unit whose USCC fills every route value that names a unit, account or body.</summary>
public class OneUnitFixture : EtsAppFixture, IAsyncLifetime
{
    public const string District = "朝阳区";
    public const string OtherDistrict = "海淀区";

    public string Uscc { get; private set; } = "";

    public string OtherUscc { get; } = TestUnits.NewUscc();

    public IReadOnlyList<ApiEndpoint> Endpoints { get; private set; } = [];

    async ValueTask IAsyncLifetime.InitializeAsync()
    {
        await base.InitializeAsync();
        Uscc = await TestUnits.RegisterAsync(Client(Roles.Regulator), District);
        await TestUnits.RegisterAsync(Client(Roles.Regulator), OtherDistrict, uscc: OtherUscc);
        Endpoints = await ApiEndpoints.ListAsync(this);
    }

    /// <summary>The token of the endpoint's first declared role in the unit's scope, or none for a public endpoint.</summary>
    public HttpClient Caller(ApiEndpoint endpoint) => endpoint.Rule!.IsAnonymous ? Client() : InScope(endpoint.Rule.Roles[0]);

    /// <summary>A plausible value for each route parameter: the registered unit for anything that names a party.</summary>
    public string RouteValue(string name) => name switch
    {
        "uscc" or "accountId" or "participant" or "a" => Uscc,
        "b" => OtherUscc,
        "year" or "fromYear" => "2026",
        "date" => "2026-01-05",
        "month" => "2026-01",
        "version" or "number" => "1",
        "product" => "BEA",
        "district" => District,
        "party" => "me",
        _ => "matrix-1",
    };

    /// <summary>A token of <paramref name="role"/> scoped to the registered unit (its district for a district bureau).</summary>
    public HttpClient InScope(string role) => Client(role, role switch
    {
        Roles.District => District,
        Roles.Unit or Roles.Participant or Roles.Verifier => Uscc,
        _ => null,
    });
}

public sealed class RoleMatrixFixture : OneUnitFixture;

/// <summary>
/// Every endpoint of the OpenAPI document, called with no token, with each role and outside the caller's scope,
/// answers as Auth/EndpointAccess.cs declares it.
/// </summary>
[Collection(nameof(Market.RunsAlone))]
public sealed class RoleMatrixTests(RoleMatrixFixture app) : IClassFixture<RoleMatrixFixture>
{
    [Fact]
    public void EveryDeclarationIsUnique()
    {
        var duplicates = EndpointAccess.Rules.GroupBy(r => r.Key).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.True(duplicates.Count == 0, "Declared twice: " + string.Join(", ", duplicates));
    }

    [Fact]
    public void ReadmeRoleMatrix_IsTheDeclaration()
    {
        var readme = File.ReadAllText(Path.Combine(Repository.Root, "README.md")).ReplaceLineEndings("\n");
        var table = EndpointAccess.MarkdownTable();

        Assert.True(readme.Contains(table, StringComparison.Ordinal), "Replace the table under 'Who may call what' in README.md with:\n" + table);
    }

    [Fact]
    public void EveryEndpointIsDeclaredAndEveryDeclarationIsAnEndpoint()
    {
        var undeclared = app.Endpoints.Where(e => e.Rule is null).Select(e => e.Key).ToList();
        Assert.True(undeclared.Count == 0, "No access declared in EndpointAccess.Rules for: " + string.Join(", ", undeclared));
        var mapped = app.Endpoints.Select(e => e.Rule!.Key).ToHashSet();
        var stale = EndpointAccess.Rules.Where(r => !mapped.Contains(r.Key)).Select(r => r.Key).ToList();
        Assert.True(stale.Count == 0, "Declared but not mapped: " + string.Join(", ", stale));
        Assert.True(app.Endpoints.Count > 100, $"Only {app.Endpoints.Count} endpoints in the OpenAPI document.");
    }

    [Fact]
    public async Task NoToken_Gives401UnlessAnonymous()
    {
        var wrong = new List<string>();
        foreach (var endpoint in app.Endpoints)
        {
            var response = await ApiEndpoints.SendAsync(app.Client(), endpoint.Method, endpoint.Fill(app.RouteValue));
            var status = (int)response.StatusCode;
            var ok = endpoint.Rule!.IsAnonymous ? status is not (401 or 403) && status < 500 : status == 401;
            if (!ok) wrong.Add($"{endpoint.Key}: {status}");
        }
        Assert.True(wrong.Count == 0, "Without a token: " + string.Join("; ", wrong));
    }

    [Fact]
    public async Task EachRole_IsLetInExactlyWhereDeclared()
    {
        var wrong = new List<string>();
        foreach (var role in Roles.All)
        {
            var client = app.InScope(role);
            foreach (var endpoint in app.Endpoints)
            {
                var response = await ApiEndpoints.SendAsync(client, endpoint.Method, endpoint.Fill(app.RouteValue));
                var status = (int)response.StatusCode;
                var declared = endpoint.Rule!.IsAnonymous || endpoint.Rule.Roles.Contains(role);
                // A declared role in its scope gets past the door whatever its dummy input then earns; no role else does.
                var ok = declared ? status is not (401 or 403) && status < 500 : status == 403;
                if (!ok) wrong.Add($"{role} {endpoint.Key}: {status} {await response.Content.ReadAsStringAsync()}");
            }
        }
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
    }

    [Fact]
    public async Task AnotherUnitOrDistrict_IsRefusedWithOnly403Or404()
    {
        var outsiders = new Dictionary<string, HttpClient>
        {
            [Roles.Unit] = app.Client(Roles.Unit, app.OtherUscc),
            [Roles.District] = app.Client(Roles.District, OneUnitFixture.OtherDistrict),
            [Roles.Participant] = app.Client(Roles.Participant, app.OtherUscc),
            [Roles.Verifier] = app.Client(Roles.Verifier, app.OtherUscc),
        };
        var wrong = new List<string>();
        var checkedCount = 0;
        foreach (var endpoint in app.Endpoints.Where(e => e.Rule!.Scope is ScopeKind.Unit or ScopeKind.Holder or ScopeKind.Verifier or ScopeKind.District))
        {
            foreach (var (role, client) in outsiders.Where(o => endpoint.Rule!.Roles.Contains(o.Key) && Applies(endpoint.Rule.Scope, o.Key)))
            {
                checkedCount++;
                var response = await ApiEndpoints.SendAsync(client, endpoint.Method, endpoint.Fill(app.RouteValue));
                if ((int)response.StatusCode is not (403 or 404)) wrong.Add($"{role} of another {endpoint.Key}: {(int)response.StatusCode}");
            }
        }
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
        Assert.True(checkedCount > 40, $"Only {checkedCount} out-of-scope calls were made.");
    }

    [Fact]
    public async Task AnotherUnit_Gets404AndAnotherDistrict403_OnAUnitsRecords()
    {
        var url = $"/api/units/{app.Uscc}/reports/2026";

        await (await app.Client(Roles.Unit, app.OtherUscc).GetAsync(url, TestContext.Current.CancellationToken)).AssertProblemAsync(HttpStatusCode.NotFound, app.Uscc);
        await (await app.Client(Roles.District, OneUnitFixture.OtherDistrict).GetAsync(url, TestContext.Current.CancellationToken))
            .AssertProblemAsync(HttpStatusCode.Forbidden, "district");
    }

    [Theory]
    [InlineData(Roles.Unit, "unit_id")]
    [InlineData(Roles.Participant, "participant_id")]
    [InlineData(Roles.District, "district")]
    [InlineData(Roles.Verifier, "verifier_id")]
    public async Task ScopedRoleWithoutItsClaim_Gives403OnEveryEndpointItMayCall(string role, string claim)
    {
        var unscoped = app.Client(role);
        var wrong = new List<string>();
        foreach (var endpoint in app.Endpoints.Where(e => e.Rule!.Roles.Contains(role)))
        {
            var response = await ApiEndpoints.SendAsync(unscoped, endpoint.Method, endpoint.Fill(app.RouteValue));
            var body = await response.Content.ReadAsStringAsync();
            if (response.StatusCode != HttpStatusCode.Forbidden || !body.Contains(claim, StringComparison.Ordinal)) wrong.Add($"{endpoint.Key}: {(int)response.StatusCode} {body}");
        }
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
    }

    private static bool Applies(ScopeKind scope, string role) => scope switch
    {
        ScopeKind.Unit => role is Roles.Unit or Roles.District,
        ScopeKind.Holder => role is Roles.Unit or Roles.Participant,
        ScopeKind.Verifier => role is Roles.Verifier,
        ScopeKind.District => role is Roles.District,
        _ => false,
    };
}
