using System.Text;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Infrastructure;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace BeijingEts.Functions.Auth;

/// <summary>
/// JWT bearer on every /api route but health and the public lists. In Azure the tokens come from Entra ID
/// (Auth:Authority / Auth:Audience, RS256); locally and in tests, in Development only, they are signed with a local
/// key (Auth:SigningKey, or Auth:SigningKeyFile, the file ./scripts/token.sh signs with; HS256).
/// </summary>
public static class AuthSetup
{
    public const string LocalIssuer = "beijing-ets-local";
    public const string LocalAudience = "beijing-ets-api";

    public static IServiceCollection AddEtsAuth(this IServiceCollection services, IConfiguration configuration, RuntimeMode mode, IHostEnvironment environment)
    {
        var auth = configuration.GetSection("Auth");
        // Resolved now, not on the first request, so a wrong setting stops the start with a message.
        var issuer = TokenIssuer.From(auth, mode, environment);
        services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer(options =>
        {
            options.MapInboundClaims = false;
            options.TokenValidationParameters = new TokenValidationParameters
            {
                RoleClaimType = EtsClaims.Roles,
                NameClaimType = EtsClaims.Subject,
                ClockSkew = TimeSpan.FromMinutes(1),
                RequireSignedTokens = true,
                // Pinned: a token signed with any other algorithm (or none) is refused, whatever its key.
                ValidAlgorithms = [issuer.Algorithm],
            };
            if (issuer.Authority is { } authority)
            {
                options.Authority = authority;
                options.Audience = issuer.Audience;
                options.TokenValidationParameters.ValidIssuer = auth["Issuer"];
            }
            else
            {
                options.TokenValidationParameters.ValidIssuer = LocalIssuer;
                options.TokenValidationParameters.ValidAudience = LocalAudience;
                options.TokenValidationParameters.IssuerSigningKey = new SymmetricSecurityKey(issuer.LocalKey);
            }
            options.Events = new JwtBearerEvents
            {
                OnChallenge = async context =>
                {
                    context.HandleResponse();
                    var detail = context.AuthenticateFailure switch
                    {
                        SecurityTokenExpiredException => "The bearer token has expired; get a new one.",
                        null => "Send 'Authorization: Bearer <token>'. Locally, ./scripts/token.sh ROLE [SCOPE] prints one.",
                        _ when AlgorithmOf(context.Request) is { } algorithm && algorithm != issuer.Algorithm =>
                            $"The bearer token is signed with {algorithm}; this platform accepts {issuer.Algorithm} only. Get one from the platform's issuer.",
                        _ => "The bearer token was not accepted (wrong issuer, audience, algorithm or signature); get one from the platform's issuer.",
                    };
                    context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                    context.Response.Headers.WWWAuthenticate = "Bearer";
                    await Results.Problem(statusCode: 401, title: "Authentication required", detail: detail).ExecuteAsync(context.HttpContext);
                },
            };
        });
        services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build());
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, ForbiddenAsProblem>();
        services.AddScoped<IAuthorizationHandler, EndpointScopeHandler>();
        return services;
    }

    /// <summary>The "alg" a refused bearer token names in its header, to say why it was refused.</summary>
    private static string? AlgorithmOf(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        var token = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : null;
        var handler = new JsonWebTokenHandler();
        if (token is null || !handler.CanReadToken(token)) return null;
        try
        {
            return handler.ReadJsonWebToken(token).Alg;
        }
        catch (Exception error) when (error is ArgumentException or SecurityTokenException or JsonException)
        {
            return null; // not a token at all: the generic answer fits
        }
    }

    /// <summary>
    /// Who signs the tokens: Entra ID (RS256) wherever the app is deployed, or a local key (HS256) only when it runs
    /// on its own in Development (run.sh, the tests). A local key anywhere else would let whoever reads the setting mint
    /// any role, so it stops the start instead of being used.
    /// </summary>
    private sealed record TokenIssuer(string Algorithm, string? Authority, string? Audience, byte[]? LocalKey)
    {
        public static TokenIssuer From(IConfigurationSection auth, RuntimeMode mode, IHostEnvironment environment)
        {
            var key = auth["SigningKey"];
            var keyFile = auth["SigningKeyFile"];
            if (!string.IsNullOrWhiteSpace(key) || !string.IsNullOrWhiteSpace(keyFile))
            {
                if (mode.IsCustomHandler)
                {
                    throw new InvalidOperationException("Auth:SigningKey and Auth:SigningKeyFile are for local development and are refused under the Functions host: remove them and set Auth:Authority and Auth:Audience (Entra ID) instead.");
                }
                if (!environment.IsDevelopment())
                {
                    throw new InvalidOperationException($"Auth:SigningKey and Auth:SigningKeyFile are accepted only in the Development environment, and this is {environment.EnvironmentName}: set ASPNETCORE_ENVIRONMENT=Development (./scripts/run.sh does), or remove them and set Auth:Authority and Auth:Audience (Entra ID).");
                }
            }
            if (auth["Authority"] is { Length: > 0 } authority)
            {
                var audience = auth["Audience"] is { Length: > 0 } a ? a : throw new InvalidOperationException("Auth:Audience must be set with Auth:Authority.");
                return new TokenIssuer(SecurityAlgorithms.RsaSha256, authority, audience, null);
            }
            if (string.IsNullOrWhiteSpace(key) && !string.IsNullOrWhiteSpace(keyFile))
            {
                key = File.Exists(keyFile) ? File.ReadAllText(keyFile).Trim() : throw new InvalidOperationException($"Auth:SigningKeyFile {keyFile} does not exist; ./scripts/run.sh creates it.");
            }
            if (string.IsNullOrWhiteSpace(key) || key.Length < 32)
            {
                throw new InvalidOperationException("No token issuer is configured: set Auth:Authority and Auth:Audience (Entra ID), or, in local Development only, Auth:SigningKey / Auth:SigningKeyFile (at least 32 characters).");
            }
            return new TokenIssuer(SecurityAlgorithms.HmacSha256, null, null, Encoding.UTF8.GetBytes(key));
        }
    }

    /// <summary>
    /// Requires one of the roles, on top of the endpoint's line in <see cref="EndpointAccess.Rules"/>; an endpoint
    /// is declared there, this is for a new endpoint until its line is written.
    /// </summary>
    public static TBuilder RequireRoles<TBuilder>(this TBuilder builder, params string[] roles) where TBuilder : IEndpointConventionBuilder =>
        builder.RequireAuthorization(policy => policy.RequireAuthenticatedUser().RequireRole(roles));

    private sealed class ForbiddenAsProblem : IAuthorizationMiddlewareResultHandler
    {
        private readonly AuthorizationMiddlewareResultHandler _default = new();

        public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult result)
        {
            if (result.Forbidden)
            {
                var scope = result.AuthorizationFailure?.FailureReasons.OfType<ScopeFailure>().FirstOrDefault();
                if (scope is not null)
                {
                    var status = scope.Hidden ? StatusCodes.Status404NotFound : StatusCodes.Status403Forbidden;
                    context.Response.StatusCode = status;
                    await Results.Problem(statusCode: status, title: scope.Hidden ? "Not found" : "Forbidden", detail: scope.Message).ExecuteAsync(context);
                    return;
                }
                var needed = policy.Requirements.OfType<RolesAuthorizationRequirement>().SelectMany(r => r.AllowedRoles).Distinct().ToList();
                var held = Roles.All.Where(context.User.IsInRole).ToList();
                var detail = needed.Count > 0
                    ? $"This needs the {string.Join(" or ", needed)} role; your token has {(held.Count > 0 ? string.Join(", ", held) : "no role")}."
                    : "Your token does not allow this.";
                context.Response.StatusCode = StatusCodes.Status403Forbidden;
                await Results.Problem(statusCode: 403, title: "Forbidden", detail: detail).ExecuteAsync(context);
                return;
            }
            await _default.HandleAsync(next, context, policy, result);
        }
    }
}
