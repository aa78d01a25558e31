using System.Security.Claims;
using BeijingEts.Domain.Lists;
using BeijingEts.Functions.Lists;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing.Patterns;

namespace BeijingEts.Functions.Auth;

/// <summary>The scope half of an endpoint's declaration, checked by <see cref="EndpointScopeHandler"/>.</summary>
public sealed record EndpointScopeRequirement(EndpointRule Rule) : IAuthorizationRequirement;

/// <summary>Why a scope check refused: 404 when the caller must not learn the resource exists, else 403.</summary>
public sealed class ScopeFailure(IAuthorizationHandler handler, string detail, bool hidden) : AuthorizationFailureReason(handler, detail)
{
    public bool Hidden { get; } = hidden;
}

/// <summary>
/// Holds a caller's scope claim against the route value its endpoint's declaration names, with the rules of
/// <see cref="UnitAccess"/>; a scoped role whose token lacks its claim is refused whatever it asks.
/// </summary>
public sealed class EndpointScopeHandler(UnitStore units) : AuthorizationHandler<EndpointScopeRequirement, HttpContext>
{
    protected override async Task HandleRequirementAsync(AuthorizationHandlerContext context, EndpointScopeRequirement requirement, HttpContext http)
    {
        var user = context.User;
        foreach (var (role, claim) in EtsClaims.ScopedRoles)
        {
            // An unscoped unit or district token would otherwise read as "no restriction".
            if (user.IsInRole(role) && string.IsNullOrWhiteSpace(user.FindFirstValue(claim)))
            {
                context.Fail(new ScopeFailure(this, $"Your {role} token has no '{claim}' claim, so it is not scoped to anything; ask for a token issued for your {role}.", hidden: false));
                return;
            }
        }
        var rule = requirement.Rule;
        // A role the declaration does not name fails the roles requirement; its scope is not worth a lookup.
        if (!rule.Roles.Any(user.IsInRole)) return;
        var value = rule.RouteValue is null ? null : http.GetRouteValue(rule.RouteValue)?.ToString();
        var failure = rule.Scope switch
        {
            ScopeKind.Unit when value is not null => await UnitFailureAsync(user, value, http.RequestAborted),
            ScopeKind.Verifier when value is not null && user.IsInRole(Roles.Verifier) && !SameId(user.FindFirstValue(EtsClaims.VerifierId), value) =>
                new ScopeFailure(this, $"A verification body acts only for itself; your token is for {user.FindFirstValue(EtsClaims.VerifierId)}, not {value}.", hidden: true),
            ScopeKind.District when value is not null && user.IsInRole(Roles.District) && !UnitAccess.IsDistrictOf(user, value) =>
                new ScopeFailure(this, $"A district bureau works on its own district's queue; your token is for {user.FindFirstValue(EtsClaims.District)}, not {value}.", hidden: false),
            ScopeKind.Holder when value is not null && (user.IsInRole(Roles.Unit) || user.IsInRole(Roles.Participant)) && !SameId(Market.MarketAccess.Trader(user), value) =>
                new ScopeFailure(this, $"No account {value} that you may see.", hidden: true),
            _ => null,
        };
        if (failure is null) context.Succeed(requirement);
        else context.Fail(failure);
    }

    private async Task<ScopeFailure?> UnitFailureAsync(ClaimsPrincipal user, string uscc, CancellationToken cancellationToken)
    {
        if (user.IsInRole(Roles.Regulator)) return null;
        if (user.IsInRole(Roles.Unit))
        {
            return UnitAccess.IsUnit(user, uscc) ? null : new ScopeFailure(this, $"No unit {uscc.ToUpperInvariant()} is registered; the regulator registers it with PUT /api/units/{uscc.ToUpperInvariant()}.", hidden: true);
        }
        if (user.IsInRole(Roles.District))
        {
            // The district is the unit's, as recorded; a malformed code names no unit of any district.
            var district = Uscc.TryParse(uscc, out var code, out _) && await units.FindAsync(code.Value, cancellationToken) is var (unit, _) ? unit.District : null;
            return district is not null && UnitAccess.IsDistrictOf(user, district) ? null
                : new ScopeFailure(this, $"Unit {uscc} is not registered in your district ({user.FindFirstValue(EtsClaims.District)}); its own district bureau and the regulator act for it.", hidden: false);
        }
        return null;
    }

    private static bool SameId(string? claim, string value) => string.Equals(claim, value, StringComparison.OrdinalIgnoreCase);
}

/// <summary>Puts each /api endpoint's declaration on it as metadata, and refuses to start with an endpoint that has none.</summary>
public static class EndpointAccessConventions
{
    /// <summary>Marks an endpoint mapped under the group that has no line in <see cref="EndpointAccess.Rules"/>.</summary>
    public sealed record UndeclaredEndpoint(string Key);

    public static RouteGroupBuilder WithDeclaredAccess(this RouteGroupBuilder group, string routePrefix)
    {
        ((IEndpointConventionBuilder)group).Add(endpoint =>
        {
            if (endpoint is not RouteEndpointBuilder { RoutePattern: var pattern }) return;
            var route = RelativeRoute(pattern, routePrefix);
            foreach (var method in endpoint.Metadata.OfType<HttpMethodMetadata>().SelectMany(m => m.HttpMethods).Distinct().ToList())
            {
                if (EndpointAccess.Find(method, route) is not { } rule)
                {
                    endpoint.Metadata.Add(new UndeclaredEndpoint($"{method} {EndpointAccess.Normalize(route)}"));
                    continue;
                }
                endpoint.Metadata.Add(rule);
                if (rule.IsAnonymous)
                {
                    endpoint.Metadata.Add(new AllowAnonymousAttribute());
                    continue;
                }
                endpoint.Metadata.Add(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().RequireRole(rule.Roles)
                    .AddRequirements(new EndpointScopeRequirement(rule)).Build());
            }
        });
        return group;
    }

    /// <summary>Throws, naming every route, when an endpoint was mapped without a declaration.</summary>
    public static void VerifyDeclaredAccess(this IEndpointRouteBuilder app)
    {
        var missing = app.DataSources.SelectMany(s => s.Endpoints).SelectMany(e => e.Metadata.OfType<UndeclaredEndpoint>()).Select(u => u.Key).Distinct().ToList();
        if (missing.Count > 0)
        {
            throw new InvalidOperationException(
                $"No access declared for {string.Join(", ", missing)}: add a line per endpoint to EndpointAccess.Rules (Auth/EndpointAccess.cs), e.g. Allow(\"{missing[0]}\", Regulator).");
        }
    }

    private static string RelativeRoute(RoutePattern pattern, string routePrefix)
    {
        var raw = "/" + (pattern.RawText ?? "").TrimStart('/');
        var prefix = "/" + routePrefix.Trim('/');
        return raw.StartsWith(prefix + "/", StringComparison.OrdinalIgnoreCase) || raw.Equals(prefix, StringComparison.OrdinalIgnoreCase) ? raw[prefix.Length..] : raw;
    }
}
